//! Sign-in settings: how the tenant's provisioned users sign in (password or OpenID Connect),
//! the OpenID provider's issuer, client id and secret (stored, never shown back), and the
//! redirect URI to register at the provider.

use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use serde::Deserialize;
use tenancy::scim_tokens::TokenCache;
use tenancy::tenants::{self, AuthType, OpenIdSettings};
use tenancy::{Db, Deployment};

use super::see_other;
use crate::error::ConsoleError;
use crate::form::Form;
use crate::layout::Layout;
use crate::oidc::Oidc;
use crate::session::{Console, flash_cookie};

/// The page.
#[derive(Template, WebTemplate)]
#[template(path = "settings/sign_in.html")]
pub struct SignInSettingsPage {
    layout: Layout,
    openid: bool,
    issuer: String,
    client_id: String,
    has_secret: bool,
    redirect_uri: String,
    login_url: String,
    scim_active: bool,
    error: Option<String>,
    confirm_switch: bool,
    /// The result of Test connection: (passed, findings).
    test: Option<(bool, Vec<String>)>,
}

/// The form.
#[derive(Debug, Deserialize)]
pub struct SignInForm {
    // A missing token is refused like a wrong one (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
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

fn page(
    console: &Console,
    deployment: &Deployment,
    error: Option<String>,
    confirm_switch: bool,
) -> SignInSettingsPage {
    let tenant = &console.tenant;
    SignInSettingsPage {
        layout: Layout::new(console, "sign-in", "Sign-in settings"),
        openid: tenant.auth_type() == AuthType::OpenId,
        issuer: tenant.oidc_issuer.clone().unwrap_or_default(),
        client_id: tenant.oidc_client_id.clone().unwrap_or_default(),
        has_secret: tenant.oidc_client_secret.is_some(),
        redirect_uri: redirect_uri(deployment, tenant.id),
        login_url: format!("{}/t/{}/login", deployment.public_url, tenant.id),
        scim_active: tenant.scim_enabled && tenant.auth_type() == AuthType::OpenId,
        error,
        confirm_switch,
        test: None,
    }
}

/// GET /console/settings/sign-in
pub async fn show_sign_in_settings(
    console: Console,
    deployment: web::Data<Deployment>,
) -> SignInSettingsPage {
    page(&console, &deployment, None, false)
}

/// POST /console/settings/sign-in
pub async fn save_sign_in_settings(
    console: Console,
    form: Form<SignInForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
    tokens: web::Data<TokenCache>,
    oidc: web::Data<Oidc>,
) -> Result<HttpResponse, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let keys = oidc.keys();
    let tenant = console.tenant.clone();
    let rejected = |message: Option<String>, confirm: bool| -> Result<HttpResponse, ConsoleError> {
        let body = page(&console, &deployment, message, confirm)
            .render()
            .map_err(|_| ConsoleError::Internal)?;
        Ok(HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(body))
    };
    match form.auth_type.as_str() {
        "password" => {
            let scim_active = tenant.scim_enabled && tenant.auth_type() == AuthType::OpenId;
            if scim_active && form.confirm.as_deref() != Some("yes") {
                return rejected(None, true);
            }
            db.run(tenant.id, move |conn| {
                tenants::set_password_sign_in(conn, tenant.id)
            })
            .await?;
            // SCIM stops with OpenID: in force on this server before the page says so.
            tokens.catch_up(&db).await?;
        }
        "openid" => {
            let client_secret = if form.client_secret.is_empty() {
                // Kept as it is: opened here and sealed again with the current key.
                let stored = tenant.client_secret(&keys).map_err(|error| {
                    tracing::error!(tenant_id = %tenant.id, %error, "cannot open the OpenID client secret");
                    ConsoleError::Internal
                })?;
                match stored {
                    Some(secret) => secret,
                    None => {
                        return rejected(
                            Some("Enter the client secret from your OpenID provider.".into()),
                            false,
                        );
                    }
                }
            } else {
                form.client_secret.clone()
            };
            let settings = OpenIdSettings {
                issuer: form.issuer.trim().to_owned(),
                client_id: form.client_id.trim().to_owned(),
                client_secret,
            };
            match db
                .run(tenant.id, move |conn| {
                    tenants::set_openid(conn, tenant.id, &settings, &keys)
                })
                .await
            {
                Ok(_) => {}
                Err(tenancy::Error::Invalid(message)) => return rejected(Some(message), false),
                Err(other) => return Err(other.into()),
            }
        }
        _ => return rejected(Some("Choose a sign-in type.".into()), false),
    }
    let mut response = see_other("/console/settings/sign-in");
    response
        .add_cookie(&flash_cookie("Sign-in settings saved."))
        .map_err(|_| ConsoleError::Internal)?;
    Ok(response)
}

/// The Test connection form.
#[derive(Debug, Deserialize)]
pub struct TestForm {
    // A missing token is refused like a wrong one (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    issuer: String,
}

/// POST /console/settings/sign-in/test: fetches the discovery document and keys of the issuer in
/// the form (or the saved one) and reports problems in words.
pub async fn test_connection(
    console: Console,
    form: Form<TestForm>,
    oidc: web::Data<crate::oidc::Oidc>,
    deployment: web::Data<Deployment>,
) -> Result<SignInSettingsPage, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let issuer = if form.issuer.trim().is_empty() {
        console.tenant.oidc_issuer.clone().unwrap_or_default()
    } else {
        form.issuer.trim().to_owned()
    };
    let mut page = page(&console, &deployment, None, false);
    if issuer.is_empty() {
        page.test = Some((false, vec!["Enter the issuer URL first.".to_owned()]));
        return Ok(page);
    }
    let problems = oidc.test_connection(&issuer).await;
    page.issuer = issuer;
    page.test = Some((problems.is_empty(), problems));
    Ok(page)
}
