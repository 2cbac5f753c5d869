//! The second step of a password sign-in for admins with two-step sign-in on: a code from their
//! authenticator app (never the same time step twice) or one of their recovery codes (each
//! once), with the same back-off as wrong passwords. Only then is the session opened.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use tenancy::admins::{self, AdminRow, mfa};
use tenancy::audit::{self, Actor};
use tenancy::limits::retry_after_seconds;
use tenancy::sealed::SecretKeys;
use tenancy::sessions::{self, Principal};
use tenancy::stored::AuditAction;
use tenancy::{Db, Deployment};

use super::login::{
    check_pre_session_csrf, pre_session_csrf, refused, safe_next, signed_in, wait_text,
};
use crate::assets;
use crate::client::{SignInLimits, client_of, request_actor};
use crate::error::ConsoleError;
use crate::form::Form;
use crate::oidc::Oidc;
use crate::page::Page;
use crate::session::{SESSION_COOKIE, removal, secure_cookies};

/// The code page.
#[derive(Template)]
#[template(path = "login_code.html")]
struct CodePage {
    css: &'static str,
    csrf: String,
    next: String,
    error: Option<String>,
}

/// `?next=` on the code page.
#[derive(Debug, Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

/// The code form.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    code: String,
    next: Option<String>,
}

fn render(
    deployment: &Deployment,
    next: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<Page, ConsoleError> {
    let (csrf, cookie) = pre_session_csrf(deployment);
    let page = CodePage {
        css: assets::css_url(),
        csrf,
        next,
        error,
    };
    Ok(Page::ok(&page)?.with_status(status).cookie(cookie))
}

/// Back to the password, when there is no session waiting for a code (it expired, or the
/// address was typed).
fn start_again() -> Page {
    Page::see_other("/console/login").cookie(removal(SESSION_COOKIE, "/console"))
}

/// GET /console/login/code
pub async fn show_code(
    req: HttpRequest,
    query: web::Query<NextQuery>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let Some(cookie) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(start_again());
    };
    let Some(tenant) = sessions::tenant_of(&cookie) else {
        return Ok(start_again());
    };
    let waiting = db
        .run(tenant, move |conn| {
            sessions::find(conn, &cookie, Utc::now())
        })
        .await?
        .is_some_and(|session| session.awaiting_mfa);
    if !waiting {
        return Ok(start_again());
    }
    render(
        &deployment,
        safe_next(query.next.as_deref()),
        None,
        StatusCode::OK,
    )
}

/// What checking a code found.
enum Checked {
    /// Right: the new session's cookie, for this admin.
    SignedIn(Box<AdminRow>, String),
    /// Wrong, counted as a failed sign-in.
    Wrong,
    /// Sign-in of this admin from this address is paused for this many seconds.
    Locked(i64),
    /// No session waits for a code.
    NotWaiting,
}

/// POST /console/login/code
pub async fn submit_code(
    req: HttpRequest,
    form: Form<CodeForm>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
    deployment: web::Data<Deployment>,
    limits: web::Data<SignInLimits>,
) -> Result<Page, ConsoleError> {
    let form = form.into_inner();
    check_pre_session_csrf(&req, &form.csrf, &deployment)?;
    let next = safe_next(form.next.as_deref());
    let address = client_of(&req).addr;
    if let Some(wait) = limits.by_address.wait(&address) {
        return paused(&deployment, next, retry_after_seconds(wait));
    }
    let Some(cookie) = req.cookie(SESSION_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(start_again());
    };
    let Some(tenant) = sessions::tenant_of(&cookie) else {
        return Ok(start_again());
    };
    let request = Request {
        cookie,
        code: form.code,
        who: request_actor(&req, None, ""),
        keys: oidc.keys(),
    };
    let checked = db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| check(conn, &request, Utc::now()))
        })
        .await?;
    match checked {
        Checked::SignedIn(admin, cookie) => {
            tracing::info!(tenant_id = %admin.tenant_id, admin_id = %admin.id, "admin signed in with a second factor");
            Ok(signed_in(&admin, next, cookie, secure_cookies(&deployment)))
        }
        Checked::NotWaiting => Ok(start_again()),
        Checked::Locked(seconds) => paused(&deployment, next, seconds.unsigned_abs()),
        Checked::Wrong => {
            if let Some(wait) = limits.by_address.failed(address) {
                return paused(&deployment, next, retry_after_seconds(wait));
            }
            render(
                &deployment,
                next,
                Some("That code is not right. Type the current code from your authenticator app, or a recovery code.".into()),
                StatusCode::UNAUTHORIZED,
            )
        }
    }
}

/// A submitted code with what is needed to check it.
struct Request {
    cookie: String,
    code: String,
    /// Who asks, from where: named once the session shows which admin it is.
    who: Actor,
    keys: std::sync::Arc<SecretKeys>,
}

/// Checks the code of the session waiting for it, in one transaction: the failure (counted and
/// audited), or the sign-in (the waiting session replaced by a full one, audited).
fn check(
    conn: &mut tenancy::PgConnection,
    request: &Request,
    now: DateTime<Utc>,
) -> Result<Checked, tenancy::Error> {
    let Some(session) = sessions::find(conn, &request.cookie, now)? else {
        return Ok(Checked::NotWaiting);
    };
    let (tenant, Some(admin_id), true) =
        (session.tenant_id, session.admin_id, session.awaiting_mfa)
    else {
        return Ok(Checked::NotWaiting);
    };
    let client = request.who.address.clone().unwrap_or_default();
    let Some(candidate) = admins::sign_in_candidate(conn, tenant, admin_id, &client, now)? else {
        return Ok(Checked::NotWaiting);
    };
    let admin = candidate.admin;
    let actor = Actor {
        admin: Some(admin.id),
        email: admin.email.clone(),
        ..request.who.clone()
    };
    if let Some(until) = candidate.locked_until {
        refused(
            conn,
            tenant,
            &actor,
            "paused after repeated failed sign-ins",
            now,
        )?;
        return Ok(Checked::Locked((until - now).num_seconds().max(1)));
    }
    let method = if mfa::is_recovery_code(&request.code) {
        mfa::use_recovery_code(conn, tenant, admin.id, &request.code, now)?
            .then_some("password and recovery code")
    } else {
        let step = mfa::secret_of(&admin, &request.keys)?
            .and_then(|secret| mfa::matching_step(&secret, &request.code, now));
        match step {
            Some(step) => mfa::accept_step(conn, tenant, admin.id, step)?
                .then_some("password and authenticator code"),
            None => None,
        }
    };
    let Some(method) = method else {
        admins::record_failed_login(conn, tenant, admin.id, &client, now)?;
        refused(conn, tenant, &actor, "wrong authentication code", now)?;
        return Ok(Checked::Wrong);
    };
    admins::record_successful_login(conn, tenant, admin.id, &client)?;
    sessions::delete(conn, &request.cookie)?;
    let (cookie, _) = sessions::create(conn, tenant, Principal::Admin(admin.id), now)?;
    let left = mfa::recovery_codes_left(conn, tenant, admin.id)?;
    audit::record(
        conn,
        tenant,
        &actor,
        AuditAction::SignIn,
        None,
        json!({ "method": method, "recovery_codes_left": left }),
        now,
    )?;
    Ok(Checked::SignedIn(Box::new(admin), cookie))
}

/// The code page while sign-in is paused, with `Retry-After`.
fn paused(deployment: &Deployment, next: String, seconds: u64) -> Result<Page, ConsoleError> {
    let wait = i64::try_from(seconds).unwrap_or(i64::MAX);
    Ok(render(
        deployment,
        next,
        Some(format!(
            "Too many wrong codes. For your security, sign-in is paused; try again in {}.",
            wait_text(wait)
        )),
        StatusCode::TOO_MANY_REQUESTS,
    )?
    .retry_after(seconds))
}
