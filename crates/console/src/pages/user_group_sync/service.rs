//! User and Group Sync's units of work: the page's state (token status and first-run
//! checklist) in one read, a token issued together with the state the page then shows, and a
//! revocation. No HTTP types: tests call these directly.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use tenancy::audit::{self, Actor};
use tenancy::connection_tests::{self, ConnectionTest};
use tenancy::scim_tokens::{self, IssuedToken, ScimTokenRow};
use tenancy::stored::AuditAction;
use tenancy::{Db, TenantId, TokenId};

use super::super::token_status::{self, TokenStatus};
use super::notifications::{self, Panel};
use crate::error::ConsoleError;
use crate::pages::safety::{OpenTrip, open_trip};

/// One step of the first-run checklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What to do.
    pub label: &'static str,
    /// How, when it is not done yet.
    pub hint: &'static str,
    /// Whether it is done (the list ticks itself).
    pub done: bool,
}

/// The page's state.
#[derive(Debug, Clone)]
pub struct SyncState {
    /// The token status component.
    pub status: TokenStatus,
    /// The first-run checklist.
    pub checklist: Vec<Step>,
    /// The running or last connection test.
    pub connection_test: Option<ConnectionTest>,
    /// The Notifications panel.
    pub notifications: Panel,
    /// The circuit breaker's open trip.
    pub trip: Option<OpenTrip>,
    /// Matches of existing users waiting for a review.
    pub waiting_review: i64,
}

impl SyncState {
    /// Whether every step of the checklist is done (then it is shown folded).
    pub fn set_up(&self) -> bool {
        self.checklist.iter().all(|step| step.done)
    }
}

/// What the tenant's settings say, for the checklist.
#[derive(Debug, Clone, Copy)]
pub struct Setup {
    /// Sign-in type OpenID.
    pub openid: bool,
    /// Whether the operator configured e-mail (for the Notifications panel).
    pub email_on: bool,
}

/// The page's state, in one unit of work.
pub async fn load(
    db: &Db,
    tenant: TenantId,
    setup: Setup,
    tenant_url: String,
    now: DateTime<Utc>,
) -> Result<SyncState, ConsoleError> {
    let (status, test, panel, safety) = db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            let status = token_status::load(conn, tenant, tenant_url, now)?;
            let test = connection_tests::last(conn, tenant)?;
            Ok((
                status,
                test,
                notifications::read(conn, tenant, setup.email_on)?,
                safety(conn, tenant, now)?,
            ))
        })
        .await?;
    Ok(state(status, setup, test, panel, safety))
}

/// Issues a token for the form submission `request_id` and reads the page's state, in one unit
/// of work, with its audit entry (by `actor`). `None` for the token when that submission already
/// minted one (a reload).
pub async fn generate(
    db: &Db,
    tenant: TenantId,
    setup: Setup,
    tenant_url: String,
    (request_id, actor): (String, Actor),
    overlap: Duration,
    now: DateTime<Utc>,
) -> Result<(Option<IssuedToken>, SyncState), ConsoleError> {
    let (issued, status, test, panel, safety) = db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            let issued =
                scim_tokens::issue_for_request(conn, tenant, now, overlap, Some(&request_id))?;
            if let Some(issued) = &issued {
                audit::record(
                    conn,
                    tenant,
                    &actor,
                    AuditAction::TokenGenerated,
                    Some(&issued.record.id.to_string()),
                    json!({ "last4": issued.record.last4, "expires_at": issued.record.expires_at }),
                    now,
                )?;
            }
            let status = token_status::load(conn, tenant, tenant_url, now)?;
            let test = connection_tests::last(conn, tenant)?;
            let panel = notifications::read(conn, tenant, setup.email_on)?;
            Ok((issued, status, test, panel, safety(conn, tenant, now)?))
        })
        .await?;
    Ok((issued, state(status, setup, test, panel, safety)))
}

/// Revokes one of the tenant's tokens; the revoked record.
pub async fn revoke(
    db: &Db,
    tenant: TenantId,
    token: TokenId,
    actor: Actor,
    now: DateTime<Utc>,
) -> Result<ScimTokenRow, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<_, tenancy::Error> {
                let row = scim_tokens::revoke(conn, tenant, token, now)?;
                audit::record(
                    conn,
                    tenant,
                    &actor,
                    AuditAction::TokenRevoked,
                    Some(&row.id.to_string()),
                    json!({ "last4": row.last4 }),
                    now,
                )?;
                Ok(row)
            })
        })
        .await?)
}

/// The breaker's open trip and the matches waiting for review.
fn safety(
    conn: &mut tenancy::PgConnection,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<(Option<OpenTrip>, i64), tenancy::Error> {
    Ok((
        open_trip(conn, tenant, now)?,
        tenancy::safety::adoption::waiting(conn, tenant)?,
    ))
}

fn state(
    status: TokenStatus,
    setup: Setup,
    connection_test: Option<ConnectionTest>,
    notifications: Panel,
    (trip, waiting_review): (Option<OpenTrip>, i64),
) -> SyncState {
    let checklist = vec![
        Step {
            label: "Set the sign-in type to OpenID",
            hint: "Provisioned users sign in through your identity provider: set it up in Sign-in settings.",
            done: setup.openid,
        },
        Step {
            label: "Generate the SCIM token",
            hint: "Use Generate Token below; the token is shown once.",
            done: status.current.is_some(),
        },
        Step {
            label: "Paste the Tenant URL and the token into your identity provider",
            hint: "Okta: SCIM 2.0 Base Url and OAuth Bearer Token. Entra ID: Tenant URL and Secret Token.",
            done: status.connected,
        },
        Step {
            label: "First request received from your identity provider",
            hint: "Assign a user to the app in your identity provider, or use its Test Connection.",
            done: status.connected && status.any_request,
        },
    ];
    SyncState {
        status,
        checklist,
        connection_test,
        notifications,
        trip,
        waiting_review,
    }
}
