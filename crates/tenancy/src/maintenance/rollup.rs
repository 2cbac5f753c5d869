//! Rolling finished hours of provisioning events up into `event_hours`, which the activity
//! chart sums instead of counting a week of events.

use chrono::{DateTime, Duration, DurationRound as _, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Timestamptz};

use crate::db::{CrossTenant, Db};
use crate::error::Result;

/// How long after an hour ends its events are final: the activity log's writer retries a batch
/// for a minute at most and a statement runs for 15 seconds at most, so nothing older arrives.
pub const ROLLUP_GRACE: Duration = Duration::minutes(5);
/// How far back the first roll-up of an installation goes (the chart shows 7 days).
const FIRST_ROLLUP: Duration = Duration::days(31);
/// Hours rolled up per transaction at most, to keep each one short.
const HOURS_PER_PASS: i64 = 24;
/// The advisory lock of the roll-up (an arbitrary constant, unique to Insights).
const ROLLUP_LOCK: i64 = 0x1_5164_7001;

const ROLL_UP: &str = "INSERT INTO event_hours (tenant_id, hour, requests, failures) \
     SELECT tenant_id, date_trunc('hour', occurred_at, 'UTC'), count(*), count(*) FILTER (WHERE status >= 400) \
     FROM provisioning_events WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY 1, 2 \
     ON CONFLICT (tenant_id, hour) DO UPDATE SET requests = EXCLUDED.requests, failures = EXCLUDED.failures";

const ADVANCE: &str = "INSERT INTO event_rollup (single, rolled_until) VALUES (true, $1) \
     ON CONFLICT (single) DO UPDATE SET rolled_until = EXCLUDED.rolled_until";

#[derive(QueryableByName)]
struct RolledUntil {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    rolled_until: Option<DateTime<Utc>>,
}

/// Rolls up to [`HOURS_PER_PASS`] finished hours (as of `now`) in one transaction. Returns up
/// to when `event_hours` is now complete, or `None` when another server holds the lock.
pub fn roll_up_events(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>> {
    crate::db::transaction(conn, |conn| {
        if !super::try_lock(conn, ROLLUP_LOCK)? {
            return Ok(None);
        }
        let done: RolledUntil =
            diesel::sql_query("SELECT (SELECT rolled_until FROM event_rollup) AS rolled_until")
                .get_result(conn)?;
        let final_before = hour_of(now - ROLLUP_GRACE);
        let from = done
            .rolled_until
            .unwrap_or_else(|| hour_of(now - FIRST_ROLLUP));
        let until = final_before.min(from + Duration::hours(HOURS_PER_PASS));
        if until <= from {
            return Ok(Some(from));
        }
        diesel::sql_query(ROLL_UP)
            .bind::<Timestamptz, _>(from)
            .bind::<Timestamptz, _>(until)
            .execute(conn)?;
        diesel::sql_query(ADVANCE)
            .bind::<Timestamptz, _>(until)
            .execute(conn)?;
        Ok(Some(until))
    })
}

/// The start of the hour `at` is in.
fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::hours(1)).unwrap_or(at)
}

/// Rolls up every finished hour now (as many passes as it takes), then returns.
pub async fn catch_up(db: &Db) -> Result<()> {
    loop {
        let now = Utc::now();
        let done = db
            .run_across_tenants(CrossTenant::Maintenance, move |conn| {
                roll_up_events(conn, now)
            })
            .await?;
        match done {
            Some(until) if until < hour_of(now - ROLLUP_GRACE) => continue,
            _ => return Ok(()),
        }
    }
}
