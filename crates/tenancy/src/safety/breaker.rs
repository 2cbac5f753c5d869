//! The deprovisioning circuit breaker. When a tenant's deactivations and deletions within an
//! hour pass its threshold (the deprovisioning spike of the notifications), a trip is opened;
//! its batch is every user the identity provider deactivated or deleted from the run's first
//! deprovisioning until an admin acknowledges it. **Undo** reactivates the batch's users that
//! were deactivated during the run and restores the deleted ones, with their cards and groups,
//! in one transaction. Deletions are always kept (see [`super::deleted`]); while a trip is
//! open none of the run's is purged.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Nullable, Text, Timestamptz, Uuid};
use serde_json::{Value, json};

use super::{Actor, admin_event, deleted, record_admin_action};
use crate::error::{Error, Result};
use crate::events::{self, NewEvent};
use crate::ids::{TenantId, UserId};
use crate::schema::breaker_trips;
use crate::stored::AuditAction;

/// A trip of the breaker.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = breaker_trips, check_for_backend(diesel::pg::Pg))]
pub struct Trip {
    /// Its id.
    pub id: uuid::Uuid,
    /// The run's first deprovisioning.
    pub started_at: DateTime<Utc>,
    /// When the breaker noticed it.
    pub tripped_at: DateTime<Utc>,
    /// Users active before the run.
    pub active_before: i32,
    /// The threshold it passed.
    pub threshold: i32,
    /// When an admin last undid it.
    pub undone_at: Option<DateTime<Utc>>,
    /// Who.
    pub undone_by: Option<String>,
    /// How many users that undo put back.
    pub undone_users: Option<i32>,
    /// When an admin acknowledged it (it is closed from then on).
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// Who.
    pub acknowledged_by: Option<String>,
}

/// The spike the notifications decided, as the breaker reads it.
#[derive(serde::Deserialize)]
struct Spike {
    since: DateTime<Utc>,
    active_before: i64,
    threshold: i64,
}

/// Opens a trip for a deprovisioning spike (the data of its notification occasion), once per
/// run. Whether this call opened it.
pub fn open_for_spike(
    conn: &mut PgConnection,
    tenant: TenantId,
    spike: &Value,
    now: DateTime<Utc>,
) -> Result<bool> {
    let spike: Spike = serde_json::from_value(spike.clone())
        .map_err(|e| Error::Internal(format!("deprovisioning spike data: {e}")))?;
    let clamp = |n: i64| i32::try_from(n).unwrap_or(i32::MAX);
    let opened = diesel::insert_into(breaker_trips::table)
        .values((
            breaker_trips::tenant_id.eq(tenant),
            breaker_trips::id.eq(uuid::Uuid::new_v4()),
            breaker_trips::started_at.eq(spike.since),
            breaker_trips::tripped_at.eq(now),
            breaker_trips::active_before.eq(clamp(spike.active_before)),
            breaker_trips::threshold.eq(clamp(spike.threshold)),
        ))
        .on_conflict_do_nothing()
        .execute(conn)?;
    if opened == 1 {
        tracing::warn!(tenant_id = %tenant, since = %spike.since, "deprovisioning circuit breaker tripped");
    }
    Ok(opened == 1)
}

/// The tenant's open trip (not acknowledged), if any: the newest.
pub fn open_trip(conn: &mut PgConnection, tenant: TenantId) -> Result<Option<Trip>> {
    Ok(breaker_trips::table
        .filter(breaker_trips::tenant_id.eq(tenant))
        .filter(breaker_trips::acknowledged_at.is_null())
        .order(breaker_trips::started_at.desc())
        .select(Trip::as_select())
        .first(conn)
        .optional()?)
}

/// The tenant's trip with this id.
pub fn find(conn: &mut PgConnection, tenant: TenantId, id: uuid::Uuid) -> Result<Trip> {
    Ok(breaker_trips::table
        .find((tenant, id))
        .select(Trip::as_select())
        .first(conn)?)
}

/// One user of a trip's batch, with what the identity provider last did to it in the run.
#[derive(Debug, Clone, QueryableByName)]
pub struct BatchUser {
    /// The user.
    #[diesel(sql_type = Uuid)]
    pub id: uuid::Uuid,
    /// `deactivate` or `delete`.
    #[diesel(sql_type = Text)]
    pub operation: String,
    /// When.
    #[diesel(sql_type = Timestamptz)]
    pub at: DateTime<Utc>,
    /// Its userName, from the directory, the deleted users or the request.
    #[diesel(sql_type = Nullable<Text>)]
    pub user_name: Option<String>,
    /// Whether it is active now.
    #[diesel(sql_type = Bool)]
    pub active: bool,
    /// Whether it is deleted and kept (restorable).
    #[diesel(sql_type = Bool)]
    pub kept: bool,
}

/// A trip's batch: each user deactivated or deleted by the identity provider from the run's
/// start until `until` (the acknowledgement, else now), by its last such request, in order.
const BATCH: &str = "WITH b AS (\
       SELECT DISTINCT ON (e.resource_id) e.resource_id::uuid AS id, e.operation, e.occurred_at AS at, e.subject \
       FROM provisioning_events e WHERE e.tenant_id = $1 AND e.occurred_at >= $2 AND e.occurred_at <= $3 \
         AND e.status < 400 AND e.resource_type = 'User' AND e.operation IN ('deactivate', 'delete') \
         AND e.resource_id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' \
       ORDER BY e.resource_id, e.occurred_at DESC) \
     SELECT b.id, b.operation, b.at, coalesce(u.user_name, d.user_name, b.subject) AS user_name, \
       coalesce(u.active, false) AS active, d.user_id IS NOT NULL AS kept \
     FROM b LEFT JOIN users u ON u.tenant_id = $1 AND u.id = b.id \
       LEFT JOIN deleted_users d ON d.tenant_id = $1 AND d.user_id = b.id \
     ORDER BY b.at, b.id";

/// The users of `trip`'s batch.
pub fn batch(
    conn: &mut PgConnection,
    tenant: TenantId,
    trip: &Trip,
    now: DateTime<Utc>,
) -> Result<Vec<BatchUser>> {
    Ok(diesel::sql_query(BATCH)
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Timestamptz, _>(trip.started_at)
        .bind::<Timestamptz, _>(trip.acknowledged_at.unwrap_or(now))
        .load(conn)?)
}

/// What an undo put back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Undone {
    /// Users reactivated (deactivated during the run).
    pub reactivated: usize,
    /// Deleted users restored.
    pub restored: usize,
    /// Deleted users that could not be (their userName was taken since, or gone for good).
    pub not_restored: usize,
}

/// Reactivates the run's deactivations `$2` of tenant `$1` (only users deactivated since the
/// run began, `$4`; a user deactivated before it stays so), at `$3`.
const REACTIVATE: &str = "UPDATE users SET active = true, \
     attributes = jsonb_set(attributes, '{active}', 'true'::jsonb), version = version + 1, \
     updated_at = $3, deactivated_at = NULL \
     WHERE tenant_id = $1 AND id = ANY($2) AND NOT active AND deactivated_at >= $4 RETURNING id";

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Uuid)]
    id: uuid::Uuid,
}

/// Undoes an open trip in one transaction: restores the batch's deleted users, then
/// reactivates those deactivated during the run, and records each in the activity log.
pub fn undo(
    conn: &mut PgConnection,
    tenant: TenantId,
    trip: uuid::Uuid,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<Undone> {
    crate::transaction(conn, |conn| {
        let trip: Trip = breaker_trips::table
            .find((tenant, trip))
            .select(Trip::as_select())
            .for_update()
            .first(conn)?;
        if trip.acknowledged_at.is_some() {
            return Err(Error::Invalid(
                "This trip was acknowledged already; restore single users from Deleted users."
                    .into(),
            ));
        }
        let users = batch(conn, tenant, &trip, now)?;
        let kept: Vec<UserId> = users
            .iter()
            .filter(|u| u.kept)
            .map(|u| UserId::from(u.id))
            .collect();
        let restored = deleted::restore(conn, tenant, &kept, now)?;
        let ids: Vec<uuid::Uuid> = users.iter().map(|u| u.id).collect();
        let reactivated: Vec<Id> = diesel::sql_query(REACTIVATE)
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Array<Uuid>, _>(&ids)
            .bind::<Timestamptz, _>(now)
            .bind::<Timestamptz, _>(trip.started_at)
            .load(conn)?;
        let undone = Undone {
            reactivated: reactivated.len(),
            restored: restored.len(),
            not_restored: kept.len() - restored.len(),
        };
        let per_user = |id: uuid::Uuid, words: &str| {
            admin_event(
                tenant,
                actor,
                words,
                Some(("User", id.to_string())),
                None,
                now,
            )
        };
        let history: Vec<NewEvent> = restored
            .iter()
            .map(|id| per_user(id.as_uuid(), "Restored by Undo"))
            .chain(
                reactivated
                    .iter()
                    .map(|r| per_user(r.id, "Reactivated by Undo")),
            )
            .collect();
        events::insert_many(conn, &history)?;
        let put_back = i32::try_from(undone.reactivated + undone.restored).unwrap_or(i32::MAX);
        diesel::update(breaker_trips::table.find((tenant, trip.id)))
            .set((
                breaker_trips::undone_at.eq(now),
                breaker_trips::undone_by.eq(actor.name()),
                breaker_trips::undone_users.eq(put_back),
            ))
            .execute(conn)?;
        record_admin_action(
            conn,
            tenant,
            actor,
            AuditAction::SafetyAction,
            "Undid the circuit breaker's trip",
            None,
            json!({
                "trip": trip.id,
                "reactivated": undone.reactivated,
                "restored": undone.restored,
                "not_restored": undone.not_restored,
            }),
            now,
        )?;
        Ok(undone)
    })
}

/// Acknowledges a trip: the banner goes, and the run's deleted users follow the normal
/// retention again. Whether it was open.
pub fn acknowledge(
    conn: &mut PgConnection,
    tenant: TenantId,
    trip: uuid::Uuid,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    crate::transaction(conn, |conn| {
        let closed = diesel::update(breaker_trips::table.find((tenant, trip)))
            .filter(breaker_trips::acknowledged_at.is_null())
            .set((
                breaker_trips::acknowledged_at.eq(now),
                breaker_trips::acknowledged_by.eq(actor.name()),
            ))
            .execute(conn)?
            == 1;
        if closed {
            record_admin_action(
                conn,
                tenant,
                actor,
                AuditAction::SafetyAction,
                "Acknowledged the circuit breaker's trip",
                None,
                json!({"trip": trip}),
                now,
            )?;
        }
        Ok(closed)
    })
}
