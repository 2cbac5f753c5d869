//! Bounded growth: provisioning events, their hourly roll-ups and the counts of refused
//! requests older than the tenant's retention, the report rows of imports that finished before it, expired console and end-user
//! sessions and expired pending OpenID logins are deleted, at most [`Retention::batch`] rows of
//! each kind per transaction with a pause between transactions, so that purging a million
//! events never holds a connection, a lock or the disk for long while SCIM requests arrive.

use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, SmallInt, Timestamptz};

use crate::db::{CrossTenant, Db};
use crate::error::{Error, Result};
use crate::sessions::IDLE_TIMEOUT;

/// The retention of a tenant that has not chosen one, unless the operator sets another.
pub const DEFAULT_RETENTION_DAYS: i16 = 30;
/// The shortest retention a tenant or the operator may choose.
pub const MIN_RETENTION_DAYS: i16 = 7;
/// The longest.
pub const MAX_RETENTION_DAYS: i16 = 365;
/// Rows of each kind deleted per transaction.
const BATCH: i64 = 5_000;
/// The pause between two transactions of a purge.
const PAUSE: StdDuration = StdDuration::from_millis(50);
/// The advisory lock of the purge (an arbitrary constant, unique to Insights).
const PURGE_LOCK: i64 = 0x1_5164_7002;

/// How long things are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Days a tenant's events are kept unless it chose otherwise.
    pub default_days: i16,
    /// Rows of each kind deleted per transaction.
    pub batch: i64,
    /// Days the audit log is kept (`INSIGHTS_AUDIT_RETENTION_DAYS`), for every tenant.
    pub audit_days: i16,
}

impl Default for Retention {
    fn default() -> Self {
        Self {
            default_days: DEFAULT_RETENTION_DAYS,
            batch: BATCH,
            audit_days: crate::audit::DEFAULT_AUDIT_RETENTION_DAYS,
        }
    }
}

impl Retention {
    /// The operator's default (`INSIGHTS_EVENT_RETENTION_DAYS`), within 7 to 365 days.
    pub fn with_default_days(days: i16) -> Result<Self> {
        if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(Error::Invalid(format!(
                "The event retention must be {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS} days; {days} was given."
            )));
        }
        Ok(Self {
            default_days: days,
            ..Self::default()
        })
    }

    /// The same with the audit log kept `days` (30 to 3650).
    pub fn with_audit_days(self, days: i16) -> Result<Self> {
        crate::audit::retention(days)?;
        Ok(Self {
            audit_days: days,
            ..self
        })
    }
}

/// What a purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Provisioning events.
    pub events: usize,
    /// Hourly roll-ups of the activity chart.
    pub event_hours: usize,
    /// Counts of refused requests.
    pub rejected: usize,
    /// Report rows of finished imports.
    pub import_rows: usize,
    /// Console and end-user sessions.
    pub sessions: usize,
    /// Pending OpenID sign-ins.
    pub pending_logins: usize,
    /// Deleted users past their tenant's retention for them.
    pub deleted_users: usize,
    /// Audit log entries past the audit retention.
    pub audit: usize,
}

impl Purged {
    /// Nothing was removed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn add(&mut self, other: Self) {
        self.events += other.events;
        self.event_hours += other.event_hours;
        self.rejected += other.rejected;
        self.import_rows += other.import_rows;
        self.sessions += other.sessions;
        self.pending_logins += other.pending_logins;
        self.deleted_users += other.deleted_users;
        self.audit += other.audit;
    }
}

// In the three statements of a retention, `$1` is the cutoff, `$2` the operator's default,
// `$3` the retention (its tenants are those whose own or default retention it is) and `$4` the
// batch. The ids come from a bounded subquery: PostgreSQL's DELETE has no LIMIT. The time bound is a
// value, so the events are found through the time indexes.
const DELETE_EVENTS: &str = "DELETE FROM provisioning_events p WHERE (p.tenant_id, p.id) IN (\
     SELECT e.tenant_id, e.id FROM provisioning_events e WHERE e.occurred_at < $1 \
     AND e.tenant_id IN (SELECT id FROM tenants WHERE coalesce(event_retention_days, $2::smallint) = $3::smallint) \
     LIMIT $4)";

const DELETE_EVENT_HOURS: &str = "DELETE FROM event_hours h WHERE (h.tenant_id, h.hour) IN (\
     SELECT x.tenant_id, x.hour FROM event_hours x WHERE x.hour < $1 \
     AND x.tenant_id IN (SELECT id FROM tenants WHERE coalesce(event_retention_days, $2::smallint) = $3::smallint) \
     LIMIT $4)";

const DELETE_REJECTED: &str = "DELETE FROM rejected_requests r WHERE (r.tenant_id, r.minute, r.reason) IN (\
     SELECT x.tenant_id, x.minute, x.reason FROM rejected_requests x WHERE x.minute < $1 \
     AND x.tenant_id IN (SELECT id FROM tenants WHERE coalesce(event_retention_days, $2::smallint) = $3::smallint) \
     LIMIT $4)";

const DELETE_IMPORT_ROWS: &str = "DELETE FROM import_rows r WHERE (r.tenant_id, r.job_id, r.line) IN (\
     SELECT x.tenant_id, x.job_id, x.line FROM import_rows x \
     JOIN import_jobs j ON j.tenant_id = x.tenant_id AND j.id = x.job_id \
     WHERE j.finished_at < $1 \
     AND j.tenant_id IN (SELECT id FROM tenants WHERE coalesce(event_retention_days, $2::smallint) = $3::smallint) \
     LIMIT $4)";

const DELETE_SESSIONS: &str = "DELETE FROM sessions s WHERE (s.tenant_id, s.token_hash) IN (\
     SELECT x.tenant_id, x.token_hash FROM sessions x WHERE x.expires_at <= $1 OR x.last_seen_at <= $2 \
     LIMIT $3)";

const DELETE_PENDING_LOGINS: &str = "DELETE FROM pending_oidc_logins p WHERE (p.tenant_id, p.state) IN (\
     SELECT x.tenant_id, x.state FROM pending_oidc_logins x WHERE x.expires_at <= $1 LIMIT $2)";

#[derive(QueryableByName)]
struct Days {
    #[diesel(sql_type = Integer)]
    days: i32,
}

/// One batch of each kind as of `now`, in one transaction: what was removed and whether some
/// kind filled its batch (there may be more). `None` when another server is purging.
pub fn purge_batch(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    retention: Retention,
) -> Result<Option<(Purged, bool)>> {
    crate::db::transaction(conn, |conn| {
        if !super::try_lock(conn, PURGE_LOCK)? {
            return Ok(None);
        }
        let retentions: Vec<Days> = diesel::sql_query(
            "SELECT DISTINCT coalesce(event_retention_days, $1::smallint)::int AS days FROM tenants",
        )
        .bind::<SmallInt, _>(retention.default_days)
        .load(conn)?;
        let mut purged = Purged::default();
        let mut more = false;
        let mut full = |removed: usize| {
            more |= i64::try_from(removed).unwrap_or(i64::MAX) >= retention.batch;
            removed
        };
        for Days { days } in retentions {
            let days = i16::try_from(days).unwrap_or(MAX_RETENTION_DAYS);
            let cutoff = now - Duration::days(i64::from(days));
            let delete = |conn: &mut PgConnection, sql: &str| -> Result<usize> {
                Ok(diesel::sql_query(sql)
                    .bind::<Timestamptz, _>(cutoff)
                    .bind::<SmallInt, _>(retention.default_days)
                    .bind::<SmallInt, _>(days)
                    .bind::<BigInt, _>(retention.batch)
                    .execute(conn)?)
            };
            purged.events += full(delete(conn, DELETE_EVENTS)?);
            purged.event_hours += full(delete(conn, DELETE_EVENT_HOURS)?);
            purged.rejected += full(delete(conn, DELETE_REJECTED)?);
            purged.import_rows += full(delete(conn, DELETE_IMPORT_ROWS)?);
        }
        purged.sessions = full(
            diesel::sql_query(DELETE_SESSIONS)
                .bind::<Timestamptz, _>(now)
                .bind::<Timestamptz, _>(now - IDLE_TIMEOUT)
                .bind::<BigInt, _>(retention.batch)
                .execute(conn)?,
        );
        purged.pending_logins = full(
            diesel::sql_query(DELETE_PENDING_LOGINS)
                .bind::<Timestamptz, _>(now)
                .bind::<BigInt, _>(retention.batch)
                .execute(conn)?,
        );
        purged.deleted_users = full(crate::safety::deleted::purge_batch(
            conn,
            now,
            retention.batch,
        )?);
        purged.audit = full(crate::audit::purge_batch(
            conn,
            now - Duration::days(i64::from(retention.audit_days)),
            retention.batch,
        )?);
        Ok(Some((purged, more)))
    })
}

/// Purges batch after batch until nothing that has outlived its retention is left, or another
/// server is purging; returns what this server removed.
pub async fn purge_expired(db: &Db, retention: Retention) -> Result<Purged> {
    let mut total = Purged::default();
    loop {
        let now = Utc::now();
        let batch = db
            .run_across_tenants(CrossTenant::Maintenance, move |conn| {
                purge_batch(conn, now, retention)
            })
            .await?;
        match batch {
            Some((purged, more)) => {
                total.add(purged);
                if !more {
                    return Ok(total);
                }
                // Let the requests that waited for the database have it between two batches.
                tokio::time::sleep(PAUSE).await;
            }
            None => return Ok(total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operator_default_stays_within_the_allowed_range() {
        assert!(Retention::with_default_days(6).is_err());
        assert!(Retention::with_default_days(366).is_err());
        assert_eq!(
            Retention::with_default_days(90)
                .map(|r| r.default_days)
                .ok(),
            Some(90)
        );
    }
}
