//! Secure > Advanced > User and Group Sync: generate, regenerate and revoke the SCIM token, and
//! see its status. Only the POST mints a token, and its response is the only place the token is
//! ever shown.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use tenancy::scim_tokens::{self, IssuedToken, TokenCache};
use tenancy::tenants::AuthType;
use tenancy::{Db, Deployment, TokenId, secret};

use super::see_other;
use super::token_status::{self, TokenStatus};
use crate::error::ConsoleError;
use crate::form::Form;
use crate::layout::{Layout, date};
use crate::session::{Console, flash_cookie};

/// The page, with the SCIM Credentials dialog when a token was just issued.
#[derive(Template)]
#[template(path = "secure/advanced/user_group_sync.html")]
struct UserGroupSyncPage {
    layout: Layout,
    scim_enabled: bool,
    openid: bool,
    has_current: bool,
    overlap_days: i64,
    request_id: String,
    status: TokenStatus,
    issued: Option<IssuedView>,
    already_shown: bool,
}

/// The freshly issued credentials.
struct IssuedView {
    tenant_url: String,
    token: String,
    expires: String,
    file_slug: String,
}

/// The Generate / Regenerate form.
#[derive(Debug, Deserialize)]
pub struct GenerateForm {
    // A missing token is refused like a wrong one (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
    request_id: String,
}

/// GET /console/secure/advanced/user-group-sync
pub async fn show_user_group_sync(
    console: Console,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<HttpResponse, ConsoleError> {
    render(&console, &db, &deployment, None, false).await
}

/// POST /console/secure/advanced/user-group-sync/token: Generate or Regenerate Token.
pub async fn regenerate_scim_token(
    console: Console,
    form: Form<GenerateForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<HttpResponse, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let tenant = console.tenant.id;
    let overlap = deployment.token_overlap;
    let request_id = form.request_id.chars().take(64).collect::<String>();
    let issued = db
        .run(tenant, move |conn| {
            scim_tokens::issue_for_request(conn, tenant, Utc::now(), overlap, Some(&request_id))
        })
        .await?;
    let already_shown = issued.is_none();
    if let Some(issued) = &issued {
        tracing::info!(tenant_id = %tenant, token_id = %issued.record.id, admin_id = %console.admin.id, "SCIM token issued from the console");
    }
    render(&console, &db, &deployment, issued, already_shown).await
}

/// The Revoke now form.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    // A missing token is refused like a wrong one (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
}

/// POST /console/secure/advanced/user-group-sync/tokens/{id}/revoke
pub async fn revoke_scim_token(
    console: Console,
    path: web::Path<String>,
    form: Form<RevokeForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<HttpResponse, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let token: TokenId = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let tenant = console.tenant.id;
    let row = db
        .run(tenant, move |conn| {
            scim_tokens::revoke(conn, tenant, token, Utc::now())
        })
        .await?;
    // "Revoked" is only said once this server refuses the token too.
    tokens.catch_up(&db).await?;
    tracing::info!(tenant_id = %tenant, token_id = %row.id, admin_id = %console.admin.id, "SCIM token revoked");
    let mut response = see_other("/console/secure/advanced/user-group-sync");
    response
        .add_cookie(&flash_cookie(&format!(
            "The token ending in {} was revoked.",
            row.last4
        )))
        .map_err(|_| ConsoleError::Internal)?;
    Ok(response)
}

async fn render(
    console: &Console,
    db: &Db,
    deployment: &Deployment,
    issued: Option<IssuedToken>,
    already_shown: bool,
) -> Result<HttpResponse, ConsoleError> {
    let tenant = console.tenant.id;
    let tenant_url = deployment.tenant_url(tenant);
    let url = tenant_url.clone();
    let status = db
        .run(tenant, move |conn| {
            token_status::load(conn, tenant, url, Utc::now())
        })
        .await?;
    let page = UserGroupSyncPage {
        layout: Layout::new(console, "secure", "User and Group Sync"),
        scim_enabled: console.tenant.scim_enabled,
        openid: console.tenant.auth_type() == AuthType::OpenId,
        has_current: status.has_current(),
        overlap_days: deployment.token_overlap.num_days(),
        request_id: secret::random_alphanumeric(24),
        status,
        issued: issued.map(|issued| IssuedView {
            tenant_url,
            token: issued.token,
            expires: date(issued.record.expires_at),
            file_slug: slug(&console.tenant.name),
        }),
        already_shown,
    };
    let body = page.render().map_err(|_| ConsoleError::Internal)?;
    // The token must not be kept by the browser's cache or shown again by the back button.
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(body))
}

/// A file-name-safe form of a tenant name: `Acme Corp.` -> `acme-corp`.
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "tenant".to_owned()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(slug("Acme Corp."), "acme-corp");
        assert_eq!(slug("Ünïcode & Co"), "n-code-co");
        assert_eq!(slug("!!!"), "tenant");
    }
}
