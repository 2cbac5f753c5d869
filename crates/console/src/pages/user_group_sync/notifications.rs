//! User and Group Sync's Notifications panel: the channels (e-mail to every admin when the
//! operator configured SMTP; the tenant's webhook endpoints), each endpoint's delivery log, and
//! the forms that add (the signing secret shown once), disable, enable and remove an endpoint
//! and send a test. Deliveries are made by the notification worker, never on this request.

use actix_web::web;
use chrono::Utc;
use serde::Deserialize;
use tenancy::audit::{self, Actor};
use tenancy::notifications::{
    DeliveryRow, EndpointRow, SpikeThreshold, deliveries, endpoints, occasions,
};
use tenancy::stored::AuditAction;
use tenancy::stored::{NotificationChannel, NotificationKind};
use tenancy::{Db, Deployment, EndpointId, PgConnection, TenantId};

use super::{Shown, load, render, setup};
use crate::error::ConsoleError;
use crate::form::{CsrfForm, EmptyForm};
use crate::layout::time_seconds;
use crate::oidc::Oidc;
use crate::page::Page;
use crate::session::Console;

/// Where the panel is.
const PANEL: &str = "/console/secure/advanced/user-group-sync#notifications";
/// Deliveries shown per channel.
const LOG_LENGTH: i64 = 10;

/// The panel as the page shows it.
#[derive(Debug, Clone, Default)]
pub struct Panel {
    /// Whether e-mail is configured (`INSIGHTS_SMTP_URL`).
    pub email_on: bool,
    /// The admins' addresses it goes to.
    pub recipients: Vec<String>,
    /// The e-mail deliveries, newest first.
    pub email_log: Vec<DeliveryView>,
    /// The endpoints with their logs.
    pub endpoints: Vec<EndpointView>,
    /// The spike threshold in words.
    pub spike: String,
    /// The tenant's own threshold, as the form shows it (empty: the default).
    pub own_spike: String,
}

/// One endpoint.
#[derive(Debug, Clone)]
pub struct EndpointView {
    /// Its id (for the forms).
    pub id: String,
    /// Its URL.
    pub url: String,
    /// Whether deliveries go to it.
    pub enabled: bool,
    /// Its state in words.
    pub state: String,
    /// The last four characters of its secret.
    pub secret_last4: String,
    /// Its deliveries, newest first.
    pub log: Vec<DeliveryView>,
}

/// One delivery, in words.
#[derive(Debug, Clone)]
pub struct DeliveryView {
    /// What it was about.
    pub kind: &'static str,
    /// To whom (an e-mail's address).
    pub to: String,
    /// When it was queued.
    pub when: String,
    /// What came of it.
    pub result: String,
    /// Whether it failed so far.
    pub failing: bool,
}

fn kind_words(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::TokenExpiring => "Token expiring",
        NotificationKind::TokenExpired => "Token expired",
        NotificationKind::ConnectionRejected => "Requests rejected",
        NotificationKind::ConnectionSilent => "No requests",
        NotificationKind::DeprovisioningSpike => "Deprovisioning spike",
        NotificationKind::Test => "Test",
        NotificationKind::EndpointDisabled => "Endpoint disabled",
    }
}

fn delivery_view(row: &DeliveryRow) -> DeliveryView {
    let status = row
        .last_status
        .map(|status| format!(" ({status})"))
        .unwrap_or_default();
    let result = if let Some(at) = row.delivered_at {
        format!("Delivered {}{status}", time_seconds(at))
    } else if row.gave_up_at.is_some() {
        format!(
            "Given up after {} attempts: {}",
            row.attempts,
            row.last_error.clone().unwrap_or_default()
        )
    } else if row.attempts == 0 {
        "Queued".to_owned()
    } else {
        format!(
            "Failed {} time(s): {}; next attempt {}",
            row.attempts,
            row.last_error.clone().unwrap_or_default(),
            time_seconds(row.next_attempt_at)
        )
    };
    DeliveryView {
        kind: kind_words(row.kind),
        to: row.recipient.clone().unwrap_or_default(),
        when: time_seconds(row.created_at),
        failing: row.delivered_at.is_none() && row.attempts > 0,
        result,
    }
}

fn endpoint_view(row: EndpointRow, log: &[DeliveryRow]) -> EndpointView {
    let state = match (&row.disabled_reason, row.enabled, row.failing_since) {
        (Some(reason), false, _) => format!("Disabled by Insights: {reason}"),
        (None, false, _) => "Disabled".to_owned(),
        (_, true, Some(since)) => format!("Failing since {}", time_seconds(since)),
        (_, true, None) => "Active".to_owned(),
    };
    EndpointView {
        id: row.id.to_string(),
        url: row.url,
        enabled: row.enabled,
        state,
        secret_last4: row.secret_last4,
        log: log
            .iter()
            .filter(|d| d.endpoint_id == Some(row.id))
            .map(delivery_view)
            .collect(),
    }
}

/// The panel's data, read in the page's unit of work.
pub fn read(
    conn: &mut PgConnection,
    tenant: TenantId,
    email_on: bool,
) -> Result<Panel, tenancy::Error> {
    let recipients = occasions::recipients(conn, tenant)?;
    let log = deliveries::recent(conn, tenant, LOG_LENGTH)?;
    let threshold = SpikeThreshold::default();
    let own = occasions::own_spike_threshold(conn, tenant)?;
    Ok(Panel {
        email_on,
        recipients,
        email_log: log
            .iter()
            .filter(|d| d.channel == NotificationChannel::Email)
            .map(delivery_view)
            .collect(),
        endpoints: endpoints::list(conn, tenant)?
            .into_iter()
            .map(|row| endpoint_view(row, &log))
            .collect(),
        own_spike: own.map(|users| users.to_string()).unwrap_or_default(),
        spike: match own {
            Some(users) => format!("{users} users (your setting)"),
            None => format!(
                "{} % of active users or {}, whichever is larger",
                (threshold.share * 100.0).round(),
                threshold.floor
            ),
        },
    })
}

/// The Add endpoint form.
#[derive(Debug, Deserialize)]
pub struct EndpointForm {
    url: String,
}

/// An endpoint just added, with its secret: shown on this response only.
pub struct NewEndpoint {
    /// Its URL.
    pub url: String,
    /// The signing secret.
    pub secret: String,
}

/// POST /console/secure/advanced/user-group-sync/notifications/endpoints
pub async fn add_endpoint(
    submitted: CsrfForm<EndpointForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
    oidc: web::Data<Oidc>,
    notifier: web::Data<notify::Notifier>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let tenant = console.tenant.id;
    let secret = notify::signature::new_secret();
    let (url, keys, stored_secret) = (form.url.trim().to_owned(), oidc.keys(), secret.clone());
    let actor = console.actor();
    let added = db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<_, tenancy::Error> {
                let now = Utc::now();
                let row = endpoints::add(conn, tenant, &url, &stored_secret, &keys, now)?;
                audited(
                    conn,
                    tenant,
                    &actor,
                    &row.url,
                    "webhook endpoint added",
                    now,
                )?;
                Ok(row)
            })
        })
        .await;
    match added {
        Ok(row) => {
            tracing::info!(tenant_id = %tenant, endpoint_id = %row.id, admin_id = %console.admin.id, "webhook endpoint added");
            let state = load(
                &db,
                tenant,
                setup(&console, &notifier),
                deployment.tenant_url(tenant),
                Utc::now(),
            )
            .await?;
            let shown = Shown {
                new_endpoint: Some(NewEndpoint {
                    url: row.url,
                    secret,
                }),
                ..Shown::default()
            };
            render(&console, &deployment, state, shown)
        }
        Err(tenancy::Error::Invalid(message)) => Ok(Page::see_other(PANEL).flash(&message)),
        Err(other) => Err(other.into()),
    }
}

/// The audit entry of a change to the notification settings, on the change's connection.
fn audited(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: &Actor,
    target: &str,
    what: &str,
    now: chrono::DateTime<Utc>,
) -> Result<(), tenancy::Error> {
    audit::record(
        conn,
        tenant,
        actor,
        AuditAction::NotificationsChanged,
        Some(target),
        serde_json::json!({ "what": what }),
        now,
    )
}

/// One change to an endpoint (`change` says what, in words, and returns its URL and the
/// message for the page), with its audit entry, in one transaction.
async fn change(
    db: &Db,
    console: &Console,
    id: &str,
    what: &'static str,
    change: impl FnOnce(
        &mut PgConnection,
        TenantId,
        EndpointId,
    ) -> Result<(String, String), tenancy::Error>
    + Send
    + 'static,
) -> Result<Page, ConsoleError> {
    let endpoint: EndpointId = id.parse().map_err(|_| ConsoleError::NotFound)?;
    let (tenant, actor) = (console.tenant.id, console.actor());
    let message = db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<String, tenancy::Error> {
                let (url, message) = change(conn, tenant, endpoint)?;
                audited(conn, tenant, &actor, &url, what, Utc::now())?;
                Ok(message)
            })
        })
        .await?;
    Ok(Page::see_other(PANEL).flash(&message))
}

/// POST …/notifications/endpoints/{id}/disable
pub async fn disable_endpoint(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    change(
        &db,
        &submitted.console,
        &path,
        "webhook endpoint disabled",
        |conn, tenant, endpoint| {
            let row = endpoints::set_enabled(conn, tenant, endpoint, false)?;
            let message = format!(
                "{} is disabled: nothing is sent to it until you enable it again.",
                row.url
            );
            Ok((row.url, message))
        },
    )
    .await
}

/// POST …/notifications/endpoints/{id}/enable
pub async fn enable_endpoint(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    change(
        &db,
        &submitted.console,
        &path,
        "webhook endpoint enabled",
        |conn, tenant, endpoint| {
            let row = endpoints::set_enabled(conn, tenant, endpoint, true)?;
            let message = format!("{} is enabled again.", row.url);
            Ok((row.url, message))
        },
    )
    .await
}

/// POST …/notifications/endpoints/{id}/remove
pub async fn remove_endpoint(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    change(
        &db,
        &submitted.console,
        &path,
        "webhook endpoint removed",
        |conn, tenant, endpoint| {
            if endpoints::remove(conn, tenant, endpoint)? {
                Ok((
                    endpoint.to_string(),
                    "The endpoint was removed with its delivery log.".to_owned(),
                ))
            } else {
                Err(tenancy::Error::NotFound)
            }
        },
    )
    .await
}

/// POST …/notifications/test: a test on every channel, delivered within seconds.
pub async fn send_test(
    submitted: CsrfForm<EmptyForm>,
    notifier: web::Data<notify::Notifier>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    if !console.tenant.scim_enabled {
        return Ok(Page::see_other(PANEL).flash("Notifications are sent once SCIM is switched on."));
    }
    let decided = notifier
        .send_test(console.tenant.id, Utc::now())
        .await
        .map_err(|error| match error {
            notify::NotifyError::Storage(error) => ConsoleError::from(error),
            notify::NotifyError::Settings(_) => ConsoleError::Internal,
        })?;
    let deliveries = decided.map_or(0, |d| d.deliveries);
    let message = if deliveries == 0 {
        "Nothing to send the test to: e-mail is off and there is no enabled endpoint.".to_owned()
    } else {
        format!(
            "A test was sent on {deliveries} channel(s); its delivery shows below within a few seconds."
        )
    };
    Ok(Page::see_other(PANEL).flash(&message))
}

/// The spike threshold form: a number of users, or empty for the default.
#[derive(Debug, Deserialize)]
pub struct SpikeForm {
    users: String,
}

/// POST …/notifications/spike
pub async fn set_spike_threshold(
    submitted: CsrfForm<SpikeForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let tenant = console.tenant.id;
    let text = form.users.trim().replace([',', ' ', '_'], "");
    let users = if text.is_empty() {
        None
    } else {
        match text.parse::<i32>() {
            Ok(users) => Some(users),
            Err(_) => {
                return Ok(Page::see_other(PANEL).flash(&format!(
                    "Choose a number of users from 1 to {}, or leave it empty for the default.",
                    occasions::MAX_SPIKE_USERS
                )));
            }
        }
    };
    let actor = console.actor();
    let saved = db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<(), tenancy::Error> {
                occasions::set_own_spike_threshold(conn, tenant, users)?;
                let what = match users {
                    Some(users) => format!("deprovisioning alert threshold set to {users} users"),
                    None => "deprovisioning alert threshold set to the default".to_owned(),
                };
                audited(
                    conn,
                    tenant,
                    &actor,
                    "deprovisioning spike",
                    &what,
                    Utc::now(),
                )
            })
        })
        .await;
    match saved {
        Ok(()) => {
            tracing::info!(tenant_id = %tenant, admin_id = %console.admin.id, ?users, "deprovisioning alert threshold set");
            let message = match users {
                Some(users) => format!(
                    "You are told when more than {users} users are deactivated or deleted within an hour."
                ),
                None => "The deprovisioning alert uses the default threshold again.".to_owned(),
            };
            Ok(Page::see_other(PANEL).flash(&message))
        }
        Err(tenancy::Error::Invalid(message)) => Ok(Page::see_other(PANEL).flash(&message)),
        Err(other) => Err(other.into()),
    }
}
