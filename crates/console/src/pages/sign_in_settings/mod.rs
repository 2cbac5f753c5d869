//! Sign-in settings: how the tenant's provisioned users sign in (password or OpenID Connect),
//! the OpenID provider's issuer, client id and secret (stored, never shown back), the redirect
//! URI to register at the provider, and Test connection, which checks what was typed before it
//! is saved. Every typed value survives a test or a refused save.

mod service;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;
use tenancy::scim_tokens::TokenCache;
use tenancy::tenants::AuthType;
use tenancy::{Db, Deployment};

use self::service::{Choice, Outcome, scim_active, secret_or_stored};
use crate::error::ConsoleError;
use crate::form::CsrfForm;
use crate::layout::Layout;
use crate::oidc::{ConnectionReport, Oidc, Typed};
use crate::page::Page;
use crate::session::Console;

/// The page.
#[derive(Template)]
#[template(path = "settings/sign_in.html")]
struct SignInSettingsPage {
    layout: Layout,
    openid: bool,
    issuer: String,
    client_id: String,
    /// A secret typed but not saved yet, put back into its field after a test or an error.
    client_secret: String,
    has_secret: bool,
    redirect_uri: String,
    login_url: String,
    scim_active: bool,
    error: Option<String>,
    confirm_switch: bool,
    test: Option<ConnectionReport>,
}

/// The form (Save and Test connection send the same fields).
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    auth_type: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    confirm: Option<String>,
}

/// The redirect URI of a tenant's OpenID sign-in.
pub fn redirect_uri(deployment: &Deployment, tenant: tenancy::TenantId) -> String {
    format!("{}/t/{tenant}/callback", deployment.public_url)
}

/// The page with the stored settings.
fn stored(console: &Console, deployment: &Deployment) -> SignInSettingsPage {
    let tenant = &console.tenant;
    SignInSettingsPage {
        layout: Layout::new(console, "sign-in", "Sign-in settings"),
        openid: tenant.auth_type() == AuthType::OpenId,
        issuer: tenant.oidc_issuer.clone().unwrap_or_default(),
        client_id: tenant.oidc_client_id.clone().unwrap_or_default(),
        client_secret: String::new(),
        has_secret: tenant.oidc_client_secret.is_some(),
        redirect_uri: redirect_uri(deployment, tenant.id),
        login_url: format!("{}/t/{}/login", deployment.public_url, tenant.id),
        scim_active: scim_active(tenant),
        error: None,
        confirm_switch: false,
        test: None,
    }
}

/// The page with what the admin typed.
fn typed(console: &Console, deployment: &Deployment, form: &SignInForm) -> SignInSettingsPage {
    SignInSettingsPage {
        openid: form.auth_type != "password",
        issuer: form.issuer.trim().to_owned(),
        client_id: form.client_id.trim().to_owned(),
        client_secret: form.client_secret.clone(),
        ..stored(console, deployment)
    }
}

/// GET /console/settings/sign-in
pub async fn show_sign_in_settings(
    console: Console,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    Page::ok(&stored(&console, &deployment))
}

/// POST /console/settings/sign-in
pub async fn save_sign_in_settings(
    submitted: CsrfForm<SignInForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
    tokens: web::Data<TokenCache>,
    oidc: web::Data<Oidc>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let choice = match form.auth_type.as_str() {
        "password" => Choice::Password {
            confirmed: form.confirm.as_deref() == Some("yes"),
        },
        "openid" => Choice::OpenId {
            issuer: form.issuer.clone(),
            client_id: form.client_id.clone(),
            client_secret: form.client_secret.clone(),
        },
        _ => {
            let mut page = typed(&console, &deployment, &form);
            page.error = Some("Choose a sign-in type.".into());
            return Ok(Page::ok(&page)?.with_status(StatusCode::BAD_REQUEST));
        }
    };
    let was_password = matches!(choice, Choice::Password { .. });
    match service::save(&db, &console.tenant, choice, oidc.keys(), console.actor()).await? {
        Outcome::Saved => {
            if was_password {
                // SCIM stops with OpenID: in force on this server before the page says so.
                tokens.catch_up(&db).await?;
            }
            Ok(Page::see_other("/console/settings/sign-in").flash("Sign-in settings saved."))
        }
        Outcome::NeedsConfirmation => {
            let mut page = typed(&console, &deployment, &form);
            page.confirm_switch = true;
            Ok(Page::ok(&page)?.with_status(StatusCode::BAD_REQUEST))
        }
        Outcome::Refused(message) => {
            let mut page = typed(&console, &deployment, &form);
            page.error = Some(message);
            Ok(Page::ok(&page)?.with_status(StatusCode::BAD_REQUEST))
        }
    }
}

/// POST /console/settings/sign-in/test: checks the issuer, client id and secret in the form
/// (the stored secret when none was typed) and reports each finding in words. Nothing is saved.
pub async fn test_connection(
    submitted: CsrfForm<SignInForm>,
    oidc: web::Data<Oidc>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let mut page = typed(&console, &deployment, &form);
    if page.issuer.is_empty() {
        page.error = Some("Enter the issuer URL first.".to_owned());
        return Ok(Page::ok(&page)?.with_status(StatusCode::BAD_REQUEST));
    }
    let settings = Typed {
        issuer: page.issuer.clone(),
        client_id: page.client_id.clone(),
        client_secret: secret_or_stored(&console.tenant, &form.client_secret, &oidc.keys())?,
    };
    page.test = Some(oidc.test_connection(&settings, &page.redirect_uri).await);
    Page::ok(&page)
}
