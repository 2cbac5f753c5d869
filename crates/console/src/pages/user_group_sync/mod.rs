//! Secure > Advanced > User and Group Sync: generate, regenerate and revoke the SCIM token, and
//! see its status and the first-run checklist. Only the POST mints a token, and its response is
//! the only place the token is ever shown.

mod service;

use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use tenancy::scim_tokens::{IssuedToken, TokenCache};
use tenancy::tenants::AuthType;
use tenancy::{Db, Deployment, TokenId, secret};

pub use self::service::{Setup, Step, SyncState, generate, load, revoke};
use super::token_status::TokenStatus;
use crate::error::ConsoleError;
use crate::form::CsrfForm;
use crate::layout::{Layout, date};
use crate::page::Page;
use crate::session::Console;

/// The page, with the SCIM Credentials dialog when a token was just issued.
#[derive(Template)]
#[template(path = "secure/advanced/user_group_sync.html")]
struct UserGroupSyncPage {
    layout: Layout,
    scim_enabled: bool,
    openid: bool,
    overlap_days: i64,
    request_id: String,
    status: TokenStatus,
    checklist: Vec<Step>,
    set_up: bool,
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
    request_id: String,
}

/// The Revoke now form (its CSRF token only).
#[derive(Debug, Deserialize)]
pub struct RevokeForm {}

fn setup(console: &Console) -> Setup {
    Setup {
        openid: console.tenant.auth_type() == AuthType::OpenId,
    }
}

/// GET /console/secure/advanced/user-group-sync
pub async fn show_user_group_sync(
    console: Console,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let tenant = console.tenant.id;
    let state = load(
        &db,
        tenant,
        setup(&console),
        deployment.tenant_url(tenant),
        Utc::now(),
    )
    .await?;
    render(&console, &deployment, state, None, false)
}

/// POST /console/secure/advanced/user-group-sync/token: Generate or Regenerate Token.
pub async fn regenerate_scim_token(
    submitted: CsrfForm<GenerateForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let tenant = console.tenant.id;
    let request_id = form.request_id.chars().take(64).collect::<String>();
    let (issued, state) = generate(
        &db,
        tenant,
        setup(&console),
        deployment.tenant_url(tenant),
        request_id,
        deployment.token_overlap,
        Utc::now(),
    )
    .await?;
    let already_shown = issued.is_none();
    if let Some(issued) = &issued {
        tracing::info!(tenant_id = %tenant, token_id = %issued.record.id, admin_id = %console.admin.id, "SCIM token issued from the console");
    }
    render(&console, &deployment, state, issued, already_shown)
}

/// POST /console/secure/advanced/user-group-sync/tokens/{id}/revoke
pub async fn revoke_scim_token(
    path: web::Path<String>,
    submitted: CsrfForm<RevokeForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let token: TokenId = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let tenant = console.tenant.id;
    let row = revoke(&db, tenant, token, Utc::now()).await?;
    // "Revoked" is only said once this server refuses the token too.
    tokens.catch_up(&db).await?;
    tracing::info!(tenant_id = %tenant, token_id = %row.id, admin_id = %console.admin.id, "SCIM token revoked");
    Ok(Page::see_other("/console/secure/advanced/user-group-sync")
        .flash(&format!("The token ending in {} was revoked.", row.last4)))
}

fn render(
    console: &Console,
    deployment: &Deployment,
    state: SyncState,
    issued: Option<IssuedToken>,
    already_shown: bool,
) -> Result<Page, ConsoleError> {
    let tenant_url = deployment.tenant_url(console.tenant.id);
    Page::ok(&UserGroupSyncPage {
        layout: Layout::new(console, "secure", "User and Group Sync"),
        scim_enabled: console.tenant.scim_enabled,
        openid: console.tenant.auth_type() == AuthType::OpenId,
        overlap_days: deployment.token_overlap.num_days(),
        request_id: secret::random_alphanumeric(24),
        set_up: state.set_up(),
        status: state.status,
        checklist: state.checklist,
        issued: issued.map(|issued| IssuedView {
            tenant_url,
            token: issued.token,
            expires: date(issued.record.expires_at),
            file_slug: slug(&console.tenant.name),
        }),
        already_shown,
    })
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
