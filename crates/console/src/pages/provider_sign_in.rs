//! Console sign-in through the tenant's identity provider, at `/console/sso/{tenant}`: the
//! tenant's OpenID client with PKCE, and a redirect URI of its own (`…/callback`), so that a
//! console sign-in and an end user's can never complete each other. The role comes from the
//! groups the provisioned user is in (see `tenancy::admins::provider`); a user in none of
//! those groups is refused with a page that says so.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::Utc;
use serde_json::json;
use tenancy::admins::provider::{self, ConsolePolicy};
use tenancy::audit;
use tenancy::sessions::{self, Principal};
use tenancy::sign_in::{self, Matched};
use tenancy::stored::{AuditAction, AuthType};
use tenancy::tenants::{self, TenantRow};
use tenancy::{Db, Deployment, TenantId};

use super::end_user::service::take_pending;
use super::end_user::{Callback, message_page};
use super::login::refused;
use crate::assets;
use crate::client::request_actor;
use crate::error::ConsoleError;
use crate::oidc::Oidc;
use crate::page::Page;
use crate::session::{secure_cookies, session_cookie};

/// The page that takes the browser on into the console once signed in. A redirect would not
/// do: the session cookie is `SameSite=Strict`, and a redirect chain that began at the
/// provider is cross-site, so the browser would not send it; a navigation from our own page
/// is same-site.
#[derive(Template)]
#[template(path = "console_signed_in.html")]
struct SignedInPage {
    css: &'static str,
    organisation: String,
}

/// The console's sign-in address for a tenant (what an owner shares with their admins).
pub fn sign_in_path(tenant: TenantId) -> String {
    format!("/console/sso/{tenant}")
}

/// The redirect URI to register at the provider for console sign-in.
pub fn redirect_uri(deployment: &Deployment, tenant: TenantId) -> String {
    format!("{}{}/callback", deployment.public_url, sign_in_path(tenant))
}

fn message(
    status: StatusCode,
    tenant: Option<&TenantRow>,
    title: &str,
    text: &str,
    retry: bool,
) -> Result<Page, ConsoleError> {
    let retry = tenant
        .filter(|_| retry)
        .map(|t| (sign_in_path(t.id), "Try again"));
    message_page(status, tenant, title, text, retry)
}

/// Whether the tenant lets admins sign in through its provider.
fn offered(tenant: &TenantRow) -> bool {
    tenant.auth_type() == AuthType::OpenId && ConsolePolicy::of(tenant).provider_sign_in
}

fn not_offered(tenant: Option<&TenantRow>) -> Result<Page, ConsoleError> {
    message(
        StatusCode::NOT_FOUND,
        tenant,
        "Sign-in not available",
        "This organisation does not let admins sign in to the console through an identity provider. Sign in with your e-mail address and password.",
        false,
    )
}

/// GET /console/sso/{tenant}: sends the browser to the provider.
pub async fn start(
    path: web::Path<String>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let Ok(id) = path.parse::<TenantId>() else {
        return not_offered(None);
    };
    let tenant = match db.run(id, move |conn| tenants::find(conn, id)).await {
        Ok(tenant) => tenant,
        Err(tenancy::Error::NotFound) => return not_offered(None),
        Err(e) => return Err(e.into()),
    };
    if !offered(&tenant) {
        return not_offered(Some(&tenant));
    }
    let started = match oidc
        .start(&tenant, &redirect_uri(&deployment, tenant.id))
        .await
    {
        Ok(started) => started,
        Err(e) => {
            tracing::warn!(tenant_id = %tenant.id, error = %e, detail = e.detail(), "console sign-in with the provider could not start");
            return message(
                StatusCode::BAD_GATEWAY,
                Some(&tenant),
                "Sign-in is unavailable",
                e.for_end_user(),
                true,
            );
        }
    };
    let url = started.url.clone();
    db.run(id, move |conn| {
        sign_in::start(
            conn,
            id,
            &started.state,
            &started.nonce,
            &started.pkce_verifier,
            true,
            Utc::now(),
        )
    })
    .await?;
    Ok(Page::see_other(&url))
}

/// What the verified identity leads to.
enum Outcome {
    /// A console session (its cookie value).
    SignedIn(String),
    /// Refused, with the page's title and text.
    Refused(&'static str, &'static str),
}

/// GET /console/sso/{tenant}/callback
pub async fn callback(
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<Callback>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let query = query.into_inner();
    let Some((tenant, pending)) = take_pending(&db, &path, query.state.clone(), true).await? else {
        return not_offered(None);
    };
    if !offered(&tenant) {
        return not_offered(Some(&tenant));
    }
    if let Some(error) = &query.error {
        tracing::warn!(tenant_id = %tenant.id, error, "identity provider refused a console sign-in");
        return message(
            StatusCode::UNAUTHORIZED,
            Some(&tenant),
            "Sign-in did not complete",
            "Sign-in was cancelled, or your identity provider refused it.",
            true,
        );
    }
    let (Some(pending), Some(code)) = (pending, query.code.as_deref()) else {
        return message(
            StatusCode::BAD_REQUEST,
            Some(&tenant),
            "This sign-in link has expired",
            "The sign-in took too long, was already completed, or was started elsewhere. Start again.",
            true,
        );
    };
    let identity = match oidc
        .finish(
            &tenant,
            &redirect_uri(&deployment, tenant.id),
            code,
            &pending.pkce_verifier,
            &pending.nonce,
        )
        .await
    {
        Ok(identity) => identity,
        Err(e) => {
            tracing::warn!(tenant_id = %tenant.id, error = %e, detail = e.detail(), "console sign-in with the provider failed");
            return message(
                StatusCode::UNAUTHORIZED,
                Some(&tenant),
                "Sign-in failed",
                e.for_end_user(),
                true,
            );
        }
    };
    let tenant_id = tenant.id;
    let who = request_actor(
        &req,
        None,
        identity.names.first().unwrap_or(&identity.subject),
    );
    let outcome = db
        .run(tenant_id, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<Outcome, tenancy::Error> {
                let now = Utc::now();
                let mut actor = who;
                let user = match sign_in::match_user(conn, tenant_id, &identity.subject, &identity.names)? {
                    Matched::Active(user) => user,
                    Matched::Deactivated(_) => {
                        refused(conn, tenant_id, &actor, "the user is deactivated", now)?;
                        return Ok(Outcome::Refused(
                            "Your account is deactivated",
                            "Your account in this organisation has been deactivated, so you cannot sign in to the console.",
                        ));
                    }
                    Matched::NotProvisioned => {
                        refused(conn, tenant_id, &actor, "not provisioned", now)?;
                        return Ok(Outcome::Refused(
                            "Your account has not been provisioned",
                            "You signed in with your identity provider, but your account has not been provisioned for this organisation in Insights. Ask your administrator to assign you the Insights application.",
                        ));
                    }
                };
                let Some(role) = provider::role_of(conn, tenant_id, user.id)? else {
                    actor.email = user.email.clone().unwrap_or(user.user_name.clone());
                    refused(conn, tenant_id, &actor, "not in a group that grants a console role", now)?;
                    return Ok(Outcome::Refused(
                        "No console access",
                        "You are not in a group that gives access to the Insights console. Ask an owner of your organisation, or your identity provider's administrator, to add you to one.",
                    ));
                };
                let admin = provider::admin_for_user(conn, tenant_id, &user, role, now)?;
                actor.admin = Some(admin.id);
                actor.email = admin.email.clone();
                let (cookie, _) = sessions::create(conn, tenant_id, Principal::Admin(admin.id), now)?;
                audit::record(
                    conn,
                    tenant_id,
                    &actor,
                    AuditAction::SignIn,
                    None,
                    json!({ "method": "identity provider", "role": role }),
                    now,
                )?;
                tracing::info!(tenant_id = %tenant_id, admin_id = %admin.id, role = role.label(), "admin signed in through the identity provider");
                Ok(Outcome::SignedIn(cookie))
            })
        })
        .await?;
    match outcome {
        Outcome::SignedIn(cookie) => {
            let page = SignedInPage {
                css: assets::css_url(),
                organisation: tenant.name.clone(),
            };
            Ok(Page::ok(&page)?.cookie(session_cookie(cookie, secure_cookies(&deployment))))
        }
        Outcome::Refused(title, text) => {
            message(StatusCode::FORBIDDEN, Some(&tenant), title, text, false)
        }
    }
}
