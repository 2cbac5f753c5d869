//! Admin sign-in and sign-out: email + password (argon2id on the blocking pool, the same time
//! for unknown emails), back-off after repeated failures, a new server-side session each time.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tenancy::admins::provider::{ConsolePolicy, Ended};
use tenancy::admins::{self, AdminRow, SignInCandidate};
use tenancy::audit::{self, Actor};
use tenancy::limits::retry_after_seconds;
use tenancy::sessions::{self, Principal};
use tenancy::stored::AuditAction;
use tenancy::{CrossTenant, Db, Deployment, password, secret, tenants};

use crate::assets;
use crate::client::{SignInLimits, client_of, request_actor};
use crate::error::ConsoleError;
use crate::form::{CsrfForm, Form};
use crate::page::Page;
use crate::session::{
    LOGIN_CSRF_COOKIE, SESSION_COOKIE, removal, same_origin, secure_cookies, session_cookie,
};

/// The sign-in page.
#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    css: &'static str,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

/// `?next=` on the sign-in page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The sign-in form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    // A missing token is refused like a wrong one (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
    email: String,
    password: String,
    next: Option<String>,
}

/// GET /console/login
pub async fn show_login(
    query: web::Query<NextQuery>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    render_login(
        &deployment,
        safe_next(query.next.as_deref()),
        String::new(),
        None,
        actix_web::http::StatusCode::OK,
    )
}

fn render_login(
    deployment: &Deployment,
    next: String,
    email: String,
    error: Option<String>,
    status: actix_web::http::StatusCode,
) -> Result<Page, ConsoleError> {
    let (csrf, cookie) = pre_session_csrf(deployment);
    let page = LoginPage {
        css: assets::css_url(),
        csrf,
        next,
        email,
        error,
    };
    Ok(Page::ok(&page)?.with_status(status).cookie(cookie))
}

/// A CSRF token for a form sent before there is a session (sign-in, accepting an
/// invitation): the same value in the form and in a cookie (double submit).
pub(crate) fn pre_session_csrf(deployment: &Deployment) -> (String, Cookie<'static>) {
    let csrf = secret::random_alphanumeric(32);
    let cookie = Cookie::build(LOGIN_CSRF_COOKIE, csrf.clone())
        .path("/console")
        .http_only(true)
        .secure(secure_cookies(deployment))
        .same_site(SameSite::Strict)
        .finish();
    (csrf, cookie)
}

/// Checks a pre-session form's token against its cookie, and its origin.
pub(crate) fn check_pre_session_csrf(
    req: &HttpRequest,
    submitted: &str,
    deployment: &Deployment,
) -> Result<(), ConsoleError> {
    let cookie_csrf = req
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    if cookie_csrf.is_empty()
        || !secret::constant_time_eq(cookie_csrf.as_bytes(), submitted.as_bytes())
        || !same_origin(req, deployment)
    {
        return Err(ConsoleError::Csrf);
    }
    Ok(())
}

/// What checking the password against the candidates found.
enum Checked {
    /// The password is right for this admin.
    Accepted(AdminRow),
    /// Sign-in of this admin from this address is paused for this many seconds.
    Locked(i64, AdminRow),
    /// Wrong for every candidate (the ones listed were tried).
    Wrong(Vec<AdminRow>),
}

/// What a right password opens.
enum Opened {
    /// A session.
    Session(String),
    /// A session that waits for the second factor.
    AwaitingCode(String),
    /// Nothing: the tenant keeps passwords for owners.
    PasswordsForOwnersOnly,
}

/// The answer to a completed sign-in: the session cookie, and the way on (to change a one-time
/// password first).
pub(crate) fn signed_in(admin: &AdminRow, next: String, cookie: String, secure: bool) -> Page {
    let location = if admin.must_change_password {
        "/console/password".to_owned()
    } else {
        next
    };
    Page::see_other(&location)
        .cookie(session_cookie(cookie, secure))
        .cookie(removal(LOGIN_CSRF_COOKIE, "/console"))
}

/// POST /console/login
pub async fn login(
    req: HttpRequest,
    form: Form<LoginForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
    limits: web::Data<SignInLimits>,
) -> Result<Page, ConsoleError> {
    let form = form.into_inner();
    check_pre_session_csrf(&req, &form.csrf, &deployment)?;
    let next = safe_next(form.next.as_deref());
    let email = form.email.trim().to_owned();
    let address = client_of(&req).addr;
    if let Some(wait) = limits.by_address.wait(&address) {
        return throttled(&deployment, next, email, wait);
    }
    let now = Utc::now();
    let candidates = sign_in_candidates(&db, &email, &address.to_string(), now).await?;
    // argon2 takes tens of milliseconds: on a blocking thread, with no connection held.
    let password = form.password;
    let checked = tokio::task::spawn_blocking(move || check_password(candidates, &password, now))
        .await
        .map_err(|_| ConsoleError::Internal)?;
    let client = address.to_string();
    match checked {
        Checked::Accepted(admin) => {
            let (tenant, admin_id) = (admin.tenant_id, admin.id);
            let actor = actor_of(&req, &admin);
            let (role, has_mfa) = (admin.role, admin.has_mfa());
            let opened = db
                .run(tenant, move |conn| {
                    tenancy::transaction(conn, |conn| -> Result<Opened, tenancy::Error> {
                        let policy = ConsolePolicy::of(&tenants::find(conn, tenant)?);
                        if !policy.allows_password(role) {
                            refused(
                                conn,
                                tenant,
                                &actor,
                                "password sign-in is for owners only",
                                now,
                            )?;
                            return Ok(Opened::PasswordsForOwnersOnly);
                        }
                        if has_mfa {
                            // The failures are cleared only once the second factor is right:
                            // a known password must not buy fresh guesses at the code.
                            let (cookie, _) =
                                sessions::create_awaiting_mfa(conn, tenant, admin_id, now)?;
                            return Ok(Opened::AwaitingCode(cookie));
                        }
                        admins::record_successful_login(conn, tenant, admin_id, &client)?;
                        let (cookie, _) =
                            sessions::create(conn, tenant, Principal::Admin(admin_id), now)?;
                        audit::record(
                            conn,
                            tenant,
                            &actor,
                            AuditAction::SignIn,
                            None,
                            json!({ "method": "password" }),
                            now,
                        )?;
                        Ok(Opened::Session(cookie))
                    })
                })
                .await?;
            let secure = secure_cookies(&deployment);
            match opened {
                Opened::PasswordsForOwnersOnly => render_login(
                    &deployment,
                    next,
                    email,
                    Some(Ended::PasswordsForOwnersOnly.message().into()),
                    actix_web::http::StatusCode::FORBIDDEN,
                ),
                Opened::AwaitingCode(cookie) => Ok(Page::see_other(&format!(
                    "/console/login/code?next={}",
                    crate::error::encode(&next)
                ))
                .cookie(session_cookie(cookie, secure))),
                Opened::Session(cookie) => {
                    tracing::info!(tenant_id = %tenant, admin_id = %admin_id, "admin signed in");
                    Ok(signed_in(&admin, next, cookie, secure))
                }
            }
        }
        Checked::Locked(seconds, admin) => {
            let (tenant, actor) = (admin.tenant_id, actor_of(&req, &admin));
            db.run(tenant, move |conn| {
                refused(
                    conn,
                    tenant,
                    &actor,
                    "paused after repeated failed sign-ins",
                    now,
                )
            })
            .await?;
            render_login(
                &deployment,
                next,
                email,
                Some(format!(
                    "Too many failed attempts. For your security, sign-in is paused; try again in {}.",
                    wait_text(seconds)
                )),
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            )
        }
        Checked::Wrong(tried) => {
            for admin in tried {
                let (tenant, admin_id, client) = (admin.tenant_id, admin.id, client.clone());
                let actor = actor_of(&req, &admin);
                db.run(tenant, move |conn| {
                    tenancy::transaction(conn, |conn| -> Result<(), tenancy::Error> {
                        admins::record_failed_login(conn, tenant, admin_id, &client, now)?;
                        refused(conn, tenant, &actor, "wrong password", now)
                    })
                })
                .await?;
            }
            if let Some(wait) = limits.by_address.failed(address) {
                return throttled(&deployment, next, email, wait);
            }
            render_login(
                &deployment,
                next,
                email,
                Some("The email or password is not right.".into()),
                actix_web::http::StatusCode::UNAUTHORIZED,
            )
        }
    }
}

/// Verifies the password against every admin with the email (one per tenant at most), or
/// against a dummy hash, so that the time taken does not reveal whether the email exists.
/// The admins this e-mail may be signing in as, oldest first: the tenants come from the e-mail
/// directory (the one read across tenants, before anyone is signed in), then each admin is read
/// in its own tenant, as all tenant work is.
async fn sign_in_candidates(
    db: &Db,
    email: &str,
    client: &str,
    now: DateTime<Utc>,
) -> Result<Vec<SignInCandidate>, ConsoleError> {
    let lookup = email.to_owned();
    let entries = db
        .run_across_tenants(CrossTenant::SignIn, move |conn| {
            admins::tenants_of_email(conn, &lookup)
        })
        .await?;
    let mut candidates = Vec::with_capacity(entries.len());
    for (tenant, admin) in entries {
        let client = client.to_owned();
        let candidate = db
            .run(tenant, move |conn| {
                admins::sign_in_candidate(conn, tenant, admin, &client, now)
            })
            .await?;
        candidates.extend(candidate);
    }
    candidates.sort_by_key(|candidate| candidate.admin.created_at);
    Ok(candidates)
}

fn check_password(candidates: Vec<SignInCandidate>, password: &str, now: DateTime<Utc>) -> Checked {
    if candidates.is_empty() {
        password::verify_against_dummy(password);
        return Checked::Wrong(Vec::new());
    }
    let mut tried = Vec::with_capacity(candidates.len());
    for SignInCandidate {
        admin,
        locked_until,
    } in candidates
    {
        if let Some(until) = locked_until {
            return Checked::Locked((until - now).num_seconds().max(1), admin);
        }
        let right = admin
            .password_hash
            .as_deref()
            .is_some_and(|hash| password::verify_password(password, hash));
        if right {
            return Checked::Accepted(admin);
        }
        tried.push(admin);
    }
    Checked::Wrong(tried)
}

/// The sign-in page after too many failures from this address, whatever the account.
fn throttled(
    deployment: &Deployment,
    next: String,
    email: String,
    wait: std::time::Duration,
) -> Result<Page, ConsoleError> {
    let seconds = retry_after_seconds(wait);
    Ok(render_login(
        deployment,
        next,
        email,
        Some(format!(
            "Too many failed sign-ins from your network. For your security, sign-in is paused; try again in {}.",
            wait_text(i64::try_from(seconds).unwrap_or(i64::MAX))
        )),
        actix_web::http::StatusCode::TOO_MANY_REQUESTS,
    )?
    .retry_after(seconds))
}

/// The sign-out form: nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct SignOutForm {}

/// POST /console/logout
pub async fn logout(
    req: HttpRequest,
    submitted: CsrfForm<SignOutForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    if let Some(cookie) = req.cookie(SESSION_COOKIE) {
        let (value, tenant, actor) = (
            cookie.value().to_owned(),
            console.tenant.id,
            console.actor(),
        );
        db.run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<(), tenancy::Error> {
                sessions::delete(conn, &value)?;
                audit::record(
                    conn,
                    tenant,
                    &actor,
                    AuditAction::SignOut,
                    None,
                    json!({}),
                    Utc::now(),
                )
            })
        })
        .await?;
    }
    Ok(Page::see_other("/console/login").cookie(removal(SESSION_COOKIE, "/console")))
}

/// The admin signing in, as the audit log names them.
pub(crate) fn actor_of(req: &HttpRequest, admin: &AdminRow) -> Actor {
    request_actor(req, Some(admin.id), &admin.email)
}

/// A refused sign-in of a known admin, with the reason, on the refusal's connection.
pub(crate) fn refused(
    conn: &mut tenancy::PgConnection,
    tenant: tenancy::TenantId,
    actor: &Actor,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), tenancy::Error> {
    audit::record(
        conn,
        tenant,
        actor,
        AuditAction::SignInFailed,
        None,
        json!({ "reason": reason }),
        now,
    )
}

/// Only local console paths are followed after sign-in (no open redirect), and only as
/// printable ASCII: a CR or LF could otherwise split the `Location` header.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with("/console")
                && !path.starts_with("//")
                && !path.contains("://")
                && path.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            path.to_owned()
        }
        _ => "/console".to_owned(),
    }
}

pub(crate) fn wait_text(seconds: i64) -> String {
    if seconds < 60 {
        format!("{seconds} seconds")
    } else {
        format!("{} minutes", (seconds + 59) / 60)
    }
}
