//! Provisioning safety's units of work: the page's state in one read (the breaker's open trip
//! with its batch, the pause, the adoption setting, the matches waiting for review and the
//! deleted users kept), and each action in one transaction with its activity-log entry. No HTTP
//! types: tests call these directly.

use chrono::{DateTime, Utc};
use tenancy::audit::Actor;
use tenancy::directory::users::UserRow;
use tenancy::safety::adoption::{self, Adoption, Conflict};
use tenancy::safety::breaker::{self, BatchUser, Trip, Undone};
use tenancy::safety::deleted::{self, DeletedUser};
use tenancy::safety::pause;
use tenancy::stored::AuditAction;
use tenancy::{Db, TenantId, UserId};

use crate::error::ConsoleError;

/// Matches and deleted users shown at once (the rest through the search).
pub const SHOWN: i64 = 50;

/// The breaker's open trip with its batch.
#[derive(Debug, Clone)]
pub struct OpenTrip {
    /// The trip.
    pub trip: Trip,
    /// Its users, in the order the identity provider deprovisioned them.
    pub batch: Vec<BatchUser>,
}

/// What the page shows.
#[derive(Debug, Clone)]
pub struct SafetyState {
    /// The breaker's open trip.
    pub trip: Option<OpenTrip>,
    /// Since when and by whom provisioning is paused.
    pub paused: Option<(DateTime<Utc>, String)>,
    /// The adoption setting.
    pub adoption: Adoption,
    /// Held matches (waiting first).
    pub conflicts: Vec<Conflict>,
    /// How many wait.
    pub waiting: i64,
    /// Deleted users kept, newest first (or those matching the search).
    pub deleted: Vec<DeletedUser>,
    /// How many are kept.
    pub deleted_total: i64,
    /// Whether the tenant is in shadow mode.
    pub shadow: bool,
}

/// The page's state, in one unit of work.
pub async fn load(
    db: &Db,
    tenant: TenantId,
    search: Option<String>,
    now: DateTime<Utc>,
) -> Result<SafetyState, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            let row = tenancy::tenants::find(conn, tenant)?;
            Ok(SafetyState {
                trip: open_trip(conn, tenant, now)?,
                paused: row
                    .provisioning_paused_at
                    .map(|at| (at, row.provisioning_paused_by.unwrap_or_default())),
                adoption: row.adoption,
                conflicts: adoption::conflicts(conn, tenant, SHOWN)?,
                waiting: adoption::waiting(conn, tenant)?,
                deleted: deleted::list(conn, tenant, search.as_deref(), SHOWN)?,
                deleted_total: deleted::count(conn, tenant)?,
                shadow: row.shadow_tenant_id.is_some(),
            })
        })
        .await?)
}

/// The open trip and its batch, for this page and the banner of User and Group Sync.
pub fn open_trip(
    conn: &mut tenancy::PgConnection,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<Option<OpenTrip>, tenancy::Error> {
    let Some(trip) = breaker::open_trip(conn, tenant)? else {
        return Ok(None);
    };
    let batch = breaker::batch(conn, tenant, &trip, now)?;
    Ok(Some(OpenTrip { trip, batch }))
}

/// Pauses (`true`) or resumes provisioning; whether that changed anything.
pub async fn set_paused(
    db: &Db,
    tenant: TenantId,
    paused: bool,
    actor: Actor,
) -> Result<bool, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            if paused {
                pause::pause(conn, tenant, &actor, Utc::now())
            } else {
                pause::resume(conn, tenant, &actor, Utc::now())
            }
        })
        .await?)
}

/// Revokes every token of the tenant; how many.
pub async fn revoke_all(db: &Db, tenant: TenantId, actor: Actor) -> Result<usize, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            pause::revoke_all(conn, tenant, &actor, Utc::now())
        })
        .await?)
}

/// Sets the adoption setting.
pub async fn set_adoption(
    db: &Db,
    tenant: TenantId,
    mode: Adoption,
    actor: Actor,
) -> Result<(), ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            adoption::set_mode(conn, tenant, mode, &actor, Utc::now())
        })
        .await?)
}

/// Links a held match. A userName another user took meanwhile is a message, not an error.
pub async fn link(
    db: &Db,
    tenant: TenantId,
    user: UserId,
    actor: Actor,
) -> Result<Result<UserRow, String>, ConsoleError> {
    let linked = db
        .run(tenant, move |conn| {
            adoption::link(conn, tenant, user, &actor, Utc::now())
        })
        .await;
    match linked {
        Ok(row) => Ok(Ok(row)),
        Err(tenancy::Error::Conflict { .. }) => Ok(Err(
            "Another user has the identity provider's userName now: change one of them, then link again."
                .into(),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Keeps a held match separate.
pub async fn keep_separate(
    db: &Db,
    tenant: TenantId,
    user: UserId,
    actor: Actor,
) -> Result<(), ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            adoption::keep_separate(conn, tenant, user, &actor, Utc::now())
        })
        .await?)
}

/// Restores one deleted user, recorded in the activity log; whether it could be.
pub async fn restore(
    db: &Db,
    tenant: TenantId,
    user: UserId,
    actor: Actor,
) -> Result<bool, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<bool, tenancy::Error> {
                let now = Utc::now();
                let restored = deleted::restore(conn, tenant, &[user], now)?;
                if !restored.is_empty() {
                    tenancy::safety::record_admin_action(
                        conn,
                        tenant,
                        &actor,
                        AuditAction::SafetyAction,
                        "Restored a deleted user",
                        Some(("User", user.to_string())),
                        serde_json::json!({}),
                        now,
                    )?;
                }
                Ok(!restored.is_empty())
            })
        })
        .await?)
}

/// Undoes the trip.
pub async fn undo(
    db: &Db,
    tenant: TenantId,
    trip: uuid::Uuid,
    actor: Actor,
) -> Result<Undone, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            breaker::undo(conn, tenant, trip, &actor, Utc::now())
        })
        .await?)
}

/// Acknowledges the trip; whether it was open.
pub async fn acknowledge(
    db: &Db,
    tenant: TenantId,
    trip: uuid::Uuid,
    actor: Actor,
) -> Result<bool, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            breaker::acknowledge(conn, tenant, trip, &actor, Utc::now())
        })
        .await?)
}
