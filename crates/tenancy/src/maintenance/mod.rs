//! Background work for every tenant, done by one server at a time: rolling finished hours of
//! events up for the activity chart ([`rollup`]) and removing what has outlived its retention
//! ([`retention`]). Every server runs [`run`]; each step takes a PostgreSQL advisory lock for
//! its transaction, so the others skip it while one works, and another takes over when that
//! one stops.

pub mod retention;
pub mod rollup;

use std::time::Duration as StdDuration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};

pub use self::retention::{Purged, Retention, purge_expired};
pub use self::rollup::{ROLLUP_GRACE, catch_up, roll_up_events};
use crate::db::Db;
use crate::error::{Error, Result};

/// How often a server tries.
const EVERY: StdDuration = StdDuration::from_secs(60);

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Takes the advisory lock `key` for the current transaction unless another session holds it.
fn try_lock(conn: &mut PgConnection, key: i64) -> Result<bool> {
    let locked: Locked = diesel::sql_query("SELECT pg_try_advisory_xact_lock($1) AS locked")
        .bind::<BigInt, _>(key)
        .get_result(conn)?;
    Ok(locked.locked)
}

/// Runs the maintenance every minute until the task is dropped. A failed pass is logged and
/// tried again at the next minute.
pub async fn run(db: Db, retention: Retention) {
    let mut ticks = tokio::time::interval(EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let pass = async {
            catch_up(&db).await?;
            let purged = purge_expired(&db, retention).await?;
            if !purged.is_empty() {
                tracing::info!(
                    events = purged.events,
                    event_hours = purged.event_hours,
                    rejected = purged.rejected,
                    import_rows = purged.import_rows,
                    sessions = purged.sessions,
                    pending_logins = purged.pending_logins,
                    deleted_users = purged.deleted_users,
                    audit = purged.audit,
                    "maintenance removed what outlived its retention"
                );
            }
            Ok::<_, Error>(())
        };
        match pass.await {
            Ok(()) => {}
            Err(Error::Unavailable) => {
                tracing::debug!("maintenance skipped: the database is unavailable");
            }
            Err(error) => tracing::warn!(%error, "maintenance failed; trying again in a minute"),
        }
    }
}
