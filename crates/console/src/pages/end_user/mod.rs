//! End-user sign-in with the tenant's OpenID provider, under `/t/{tenant}`: start the flow,
//! handle the callback, show the signed-in user's page, sign out (locally and, when the provider
//! offers it, at the provider). The callback's database work is in [`service`].

pub(crate) mod service;

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use tenancy::directory::{cards, users};
use tenancy::sessions;
use tenancy::sign_in;
use tenancy::tenants::{self, AuthType, TenantRow};
use tenancy::{Db, Deployment, TenantId, secret};

use self::service::SignedIn;
use crate::assets;
use crate::error::ConsoleError;
use crate::form::Form;
use crate::oidc::Oidc;
use crate::page::Page;
use crate::session::{removal, secure_cookies};

/// The end-user session cookie (scoped to the tenant's paths). SameSite=Lax, because the
/// provider's redirect back to us is a cross-site navigation.
pub const USER_COOKIE: &str = "insights_user";

/// The link back to sign-in after a failure.
const TRY_AGAIN: Option<&str> = Some("Try again");

/// A page with one message (errors, not provisioned, deactivated, signed out).
#[derive(Template)]
#[template(path = "end_user/message.html")]
struct MessagePage {
    css: &'static str,
    title: String,
    message: String,
    organisation: Option<String>,
    /// A link back to sign-in: (address, label).
    retry: Option<(String, &'static str)>,
}

/// The signed-in user's page.
#[derive(Template)]
#[template(path = "end_user/me.html")]
struct MePage {
    css: &'static str,
    organisation: String,
    name: String,
    user_name: String,
    email: String,
    groups: Vec<String>,
    cards: Vec<String>,
    csrf: String,
    logout_url: String,
}

fn html(status: StatusCode, page: &impl Template) -> Result<Page, ConsoleError> {
    Ok(Page::ok(page)?.with_status(status))
}

fn message(
    status: StatusCode,
    tenant: Option<&TenantRow>,
    title: &str,
    text: &str,
    retry: Option<&'static str>,
) -> Result<Page, ConsoleError> {
    let retry = tenant
        .zip(retry)
        .map(|(t, label)| (format!("/t/{}/login", t.id), label));
    message_page(status, tenant, title, text, retry)
}

/// A page with one message under the organisation's name, with a link (address, label) to try
/// again: the end users' sign-in pages and the console's sign-in through the provider.
pub(crate) fn message_page(
    status: StatusCode,
    tenant: Option<&TenantRow>,
    title: &str,
    text: &str,
    retry: Option<(String, &'static str)>,
) -> Result<Page, ConsoleError> {
    let page = MessagePage {
        css: assets::css_url(),
        title: title.to_owned(),
        message: text.to_owned(),
        organisation: tenant.map(|t| t.name.clone()),
        retry,
    };
    html(status, &page)
}

/// The page for a sign-in address whose tenant does not exist.
fn unknown_organisation() -> Result<Page, ConsoleError> {
    message(
        StatusCode::NOT_FOUND,
        None,
        "Unknown organisation",
        "This sign-in address does not belong to any organisation. Check the link you were given.",
        None,
    )
}

fn base(deployment: &Deployment, tenant: TenantId) -> String {
    format!("{}/t/{tenant}", deployment.public_url)
}

async fn load_tenant(db: &Db, raw: &str) -> Result<Option<TenantRow>, ConsoleError> {
    let Ok(id) = raw.parse::<TenantId>() else {
        return Ok(None);
    };
    match db.run(id, move |conn| tenants::find(conn, id)).await {
        Ok(tenant) => Ok(Some(tenant)),
        Err(tenancy::Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// GET /t/{tenant}/login: sends the browser to the provider.
pub async fn start_login(
    path: web::Path<String>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let Some(tenant) = load_tenant(&db, &path).await? else {
        return unknown_organisation();
    };
    if tenant.auth_type() != AuthType::OpenId {
        return message(
            StatusCode::NOT_FOUND,
            Some(&tenant),
            "Sign-in not available",
            "This organisation does not use sign-in with an identity provider.",
            None,
        );
    }
    let redirect_uri = format!("{}/callback", base(&deployment, tenant.id));
    let start = match oidc.start(&tenant, &redirect_uri).await {
        Ok(start) => start,
        Err(e) => {
            tracing::warn!(tenant_id = %tenant.id, error = %e, detail = e.detail(), "OpenID sign-in could not start");
            return message(
                StatusCode::BAD_GATEWAY,
                Some(&tenant),
                "Sign-in is unavailable",
                e.for_end_user(),
                TRY_AGAIN,
            );
        }
    };
    let tenant_id = tenant.id;
    let (state, nonce, verifier) = (
        start.state.clone(),
        start.nonce.clone(),
        start.pkce_verifier.clone(),
    );
    db.run(tenant_id, move |conn| {
        sign_in::start(
            conn,
            tenant_id,
            &state,
            &nonce,
            &verifier,
            false,
            Utc::now(),
        )
    })
    .await?;
    Ok(Page::see_other(&start.url))
}

/// The provider's redirect back.
#[derive(Debug, Deserialize)]
pub struct Callback {
    pub(crate) code: Option<String>,
    pub(crate) state: Option<String>,
    pub(crate) error: Option<String>,
    pub(crate) error_description: Option<String>,
}

/// GET /t/{tenant}/callback
pub async fn callback(
    path: web::Path<String>,
    query: web::Query<Callback>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let query = query.into_inner();
    let Some((tenant, pending)) =
        service::take_pending(&db, &path, query.state.clone(), false).await?
    else {
        return unknown_organisation();
    };
    let tenant_id = tenant.id;
    if let Some(error) = &query.error {
        tracing::warn!(tenant_id = %tenant.id, error, description = ?query.error_description, "identity provider refused the sign-in");
        let text = match error.as_str() {
            "access_denied" => {
                "Sign-in was cancelled, or your identity provider denied access to Insights."
                    .to_owned()
            }
            other => format!(
                "Your identity provider reported an error ({other}). Try again, or contact your administrator."
            ),
        };
        return message(
            StatusCode::UNAUTHORIZED,
            Some(&tenant),
            "Sign-in did not complete",
            &text,
            TRY_AGAIN,
        );
    }
    let Some(pending) = pending else {
        tracing::warn!(tenant_id = %tenant.id, "OpenID callback with an unknown, used or expired state");
        return message(
            StatusCode::BAD_REQUEST,
            Some(&tenant),
            "This sign-in link has expired",
            "The sign-in took too long, was already completed, or was started elsewhere. Start again.",
            TRY_AGAIN,
        );
    };
    let Some(code) = query.code else {
        return message(
            StatusCode::BAD_REQUEST,
            Some(&tenant),
            "Sign-in did not complete",
            "The identity provider sent no authorization code.",
            TRY_AGAIN,
        );
    };
    let redirect_uri = format!("{}/callback", base(&deployment, tenant.id));
    let identity = match oidc
        .finish(
            &tenant,
            &redirect_uri,
            &code,
            &pending.pkce_verifier,
            &pending.nonce,
        )
        .await
    {
        Ok(identity) => identity,
        Err(e) => {
            tracing::warn!(tenant_id = %tenant.id, error = %e, detail = e.detail(), "OpenID sign-in failed");
            return message(
                StatusCode::UNAUTHORIZED,
                Some(&tenant),
                "Sign-in failed",
                e.for_end_user(),
                TRY_AGAIN,
            );
        }
    };
    let signed_in = service::sign_in(
        &db,
        tenant_id,
        identity.subject.clone(),
        identity.names.clone(),
    )
    .await?;
    let (user, cookie) = match signed_in {
        SignedIn::Session(user, cookie) => (user, cookie),
        SignedIn::Deactivated(user) => {
            tracing::info!(tenant_id = %tenant.id, user_id = %user.id, "sign-in refused: user deactivated");
            return message(
                StatusCode::FORBIDDEN,
                Some(&tenant),
                "Your account is deactivated",
                "Your account in this organisation has been deactivated. Contact your administrator if you think this is a mistake.",
                None,
            );
        }
        SignedIn::NotProvisioned => {
            tracing::info!(tenant_id = %tenant.id, subject = %identity.subject, "sign-in refused: not provisioned");
            return message(
                StatusCode::FORBIDDEN,
                Some(&tenant),
                "Your account has not been provisioned",
                "You signed in with your identity provider, but your account has not been provisioned for this organisation in Insights. Ask your administrator to assign you the Insights application.",
                None,
            );
        }
    };
    tracing::info!(tenant_id = %tenant.id, user_id = %user.id, "user signed in with OpenID Connect");
    let cookie = Cookie::build(USER_COOKIE, cookie)
        .path(format!("/t/{tenant_id}"))
        .http_only(true)
        .secure(secure_cookies(&deployment))
        .same_site(SameSite::Lax)
        .finish();
    Ok(Page::see_other(&format!("/t/{tenant_id}/me")).cookie(cookie))
}

/// GET /t/{tenant}/me: the signed-in user's page; signed out when the session ended (for
/// example because the user was deactivated over SCIM).
pub async fn show_me(
    req: HttpRequest,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let Some(tenant) = load_tenant(&db, &path).await? else {
        return Err(ConsoleError::NotFound);
    };
    let login = format!("/t/{}/login", tenant.id);
    let Some(cookie) = req.cookie(USER_COOKIE).map(|c| c.value().to_owned()) else {
        return Ok(Page::see_other(&login));
    };
    let tenant_id = tenant.id;
    let loaded = db
        .run(tenant_id, move |conn| -> Result<_, tenancy::Error> {
            let Some(session) = sessions::find(conn, &cookie, Utc::now())? else {
                return Ok(None);
            };
            let Some(user_id) = session.user_id.filter(|_| session.tenant_id == tenant_id) else {
                return Ok(None);
            };
            let Some(user) = users::find(conn, tenant_id, user_id)?.filter(|u| u.active) else {
                return Ok(None);
            };
            let groups = users::groups_of(conn, tenant_id, &[user_id])?;
            let cards = cards::for_user(conn, tenant_id, user_id)?;
            Ok(Some((session, user, groups, cards)))
        })
        .await?;
    let Some((session, user, groups, cards)) = loaded else {
        return Ok(Page::see_other(&login).cookie(removal(USER_COOKIE, format!("/t/{tenant_id}"))));
    };
    let name = user.shown_name();
    let page = MePage {
        css: assets::css_url(),
        organisation: tenant.name.clone(),
        name: if name.trim().is_empty() {
            user.user_name.clone()
        } else {
            name
        },
        user_name: user.user_name.clone(),
        email: user.email.clone().unwrap_or_default(),
        groups: groups.into_iter().map(|(_, _, name)| name).collect(),
        cards: cards.into_iter().map(|c| c.card_number).collect(),
        csrf: session.csrf_token,
        logout_url: format!("/t/{tenant_id}/logout"),
    };
    html(StatusCode::OK, &page)
}

/// The sign-out form.
#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    csrf: String,
}

/// POST /t/{tenant}/logout: ends the session, then RP-initiated logout at the provider when
/// it advertises an end-session endpoint.
pub async fn logout(
    req: HttpRequest,
    path: web::Path<String>,
    form: Form<LogoutForm>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let Some(tenant) = load_tenant(&db, &path).await? else {
        return Err(ConsoleError::NotFound);
    };
    let tenant_id = tenant.id;
    if let Some(cookie) = req.cookie(USER_COOKIE).map(|c| c.value().to_owned()) {
        let submitted = form.csrf.clone();
        let valid = db
            .run(tenant_id, move |conn| -> Result<bool, tenancy::Error> {
                let Some(session) = sessions::find(conn, &cookie, Utc::now())? else {
                    return Ok(true);
                };
                if !secret::constant_time_eq(session.csrf_token.as_bytes(), submitted.as_bytes()) {
                    return Ok(false);
                }
                sessions::delete(conn, &cookie)?;
                Ok(true)
            })
            .await?;
        if !valid {
            return Err(ConsoleError::Csrf);
        }
    }
    let signed_out = format!("{}/signed-out", base(&deployment, tenant_id));
    let location = oidc
        .end_session_url(&tenant, &signed_out)
        .await
        .unwrap_or_else(|| format!("/t/{tenant_id}/signed-out"));
    Ok(Page::see_other(&location).cookie(removal(USER_COOKIE, format!("/t/{tenant_id}"))))
}

/// GET /t/{tenant}/signed-out
pub async fn signed_out(path: web::Path<String>, db: web::Data<Db>) -> Result<Page, ConsoleError> {
    let tenant = load_tenant(&db, &path).await?;
    message(
        StatusCode::OK,
        tenant.as_ref(),
        "You are signed out",
        "You have signed out of Insights.",
        Some("Sign in again"),
    )
}
