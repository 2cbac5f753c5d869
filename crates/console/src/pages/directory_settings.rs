//! Direct > Settings: the Tenant URL and token status, with a way to regenerate.

use actix_web::web;
use askama::Template;
use chrono::Utc;
use tenancy::{Db, Deployment};

use super::token_status::{self, TokenStatus};
use crate::error::ConsoleError;
use crate::layout::Layout;
use crate::page::Page;
use crate::session::Console;

/// The page.
#[derive(Template)]
#[template(path = "direct/settings.html")]
pub struct DirectSettingsPage {
    layout: Layout,
    scim_enabled: bool,
    status: TokenStatus,
}

/// GET /console/direct/settings
pub async fn show_direct_settings(
    console: Console,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let tenant = console.tenant.id;
    let url = deployment.tenant_url(tenant);
    let status = db
        .run(tenant, move |conn| {
            token_status::load(conn, tenant, url, Utc::now())
        })
        .await?;
    Page::ok(&DirectSettingsPage {
        layout: Layout::new(&console, "direct", "Directory settings"),
        scim_enabled: console.tenant.scim_enabled,
        status,
    })
}
