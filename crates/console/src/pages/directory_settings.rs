//! Direct > Settings: the Tenant URL and token status, with a way to regenerate, and how long
//! the provisioning activity is kept.

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use tenancy::maintenance::retention::{MAX_RETENTION_DAYS, MIN_RETENTION_DAYS};
use tenancy::tenants;
use tenancy::{Db, Deployment};

use super::token_status::{self, TokenStatus};
use crate::error::ConsoleError;
use crate::form::CsrfForm;
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
    /// The retention in the form: the tenant's own, or empty for the default.
    retention: String,
    default_days: i16,
    min_days: i16,
    max_days: i16,
    retention_error: Option<String>,
}

/// The retention form: days, or empty for the default.
#[derive(Debug, Deserialize)]
pub struct RetentionForm {
    #[serde(default)]
    days: String,
}

async fn page(
    console: &Console,
    db: &Db,
    deployment: &Deployment,
    retention: String,
    retention_error: Option<String>,
) -> Result<DirectSettingsPage, ConsoleError> {
    let tenant = console.tenant.id;
    let url = deployment.tenant_url(tenant);
    let status = db
        .run(tenant, move |conn| {
            token_status::load(conn, tenant, url, Utc::now())
        })
        .await?;
    Ok(DirectSettingsPage {
        layout: Layout::new(console, "direct", "Directory settings"),
        scim_enabled: console.tenant.scim_enabled,
        status,
        retention,
        default_days: deployment.event_retention_days,
        min_days: MIN_RETENTION_DAYS,
        max_days: MAX_RETENTION_DAYS,
        retention_error,
    })
}

/// GET /console/direct/settings
pub async fn show_direct_settings(
    console: Console,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let retention = console
        .tenant
        .event_retention_days
        .map(|days| days.to_string())
        .unwrap_or_default();
    Page::ok(&page(&console, &db, &deployment, retention, None).await?)
}

/// POST /console/direct/settings/retention
pub async fn save_retention(
    submitted: CsrfForm<RetentionForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let typed = form.days.trim().to_owned();
    let days = if typed.is_empty() {
        Ok(None)
    } else {
        typed.parse::<i16>().map(Some).map_err(|_| {
            format!("Enter a number of days from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS}, or leave it empty for the default.")
        })
    };
    let saved = match days {
        Ok(days) => {
            let (tenant, actor, before) = (
                console.tenant.id,
                console.actor(),
                console.tenant.event_retention_days,
            );
            match db
                .run(tenant, move |conn| {
                    tenancy::transaction(conn, |conn| -> Result<(), tenancy::Error> {
                        tenants::set_event_retention(conn, tenant, days)?;
                        tenancy::audit::record(
                            conn,
                            tenant,
                            &actor,
                            tenancy::stored::AuditAction::RetentionChanged,
                            None,
                            serde_json::json!({ "before_days": before, "after_days": days }),
                            Utc::now(),
                        )
                    })
                })
                .await
            {
                Ok(_) => Ok(days),
                Err(tenancy::Error::Invalid(message)) => Err(message),
                Err(other) => return Err(other.into()),
            }
        }
        Err(message) => Err(message),
    };
    match saved {
        Ok(days) => {
            let kept = days.unwrap_or(deployment.event_retention_days);
            Ok(
                Page::see_other("/console/direct/settings#retention").flash(&format!(
                    "Provisioning activity is now kept for {kept} days."
                )),
            )
        }
        Err(message) => Ok(Page::ok(
            &page(&console, &db, &deployment, typed, Some(message)).await?,
        )?
        .with_status(StatusCode::BAD_REQUEST)),
    }
}
