//! The activity chart's counts: requests and failures per bucket of time, the bucket size
//! following the range shown (a minute for the last hour up to a day for the last 30 days).
//! Whole hours come from the roll-up (`event_hours`, see [`crate::maintenance`]) where it has
//! them; shorter buckets and the hours not yet rolled up are counted from the events.

use chrono::{DateTime, Duration, DurationRound as _, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz, Uuid};

use crate::error::Result;
use crate::ids::TenantId;
use crate::prepared::Prepared;

/// How long one bar of the chart is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bucketing {
    /// One minute (the last hour).
    Minute,
    /// Fifteen minutes (the last 24 hours).
    QuarterHour,
    /// One hour (the last 7 days).
    Hour,
    /// One day, UTC (the last 30 days).
    Day,
}

impl Bucketing {
    /// The length of one bucket.
    pub fn length(self) -> Duration {
        match self {
            Self::Minute => Duration::minutes(1),
            Self::QuarterHour => Duration::minutes(15),
            Self::Hour => Duration::hours(1),
            Self::Day => Duration::days(1),
        }
    }

    /// The start of the bucket holding `at`.
    pub fn start_of(self, at: DateTime<Utc>) -> DateTime<Utc> {
        at.duration_trunc(self.length()).unwrap_or(at)
    }
}

/// The chart's hours: the rolled-up ones before `$3` and, from `$3` on, the hours counted from
/// the events themselves. `$3` (the later of the chart's start and the end of the roll-up) is
/// read first and bound as a value, so that the planner sees how short the counted range is and
/// reads it through the tenant's time index; computed inside the statement, it would be an
/// unknown and the planner would estimate a third of the table.
const HOURLY: &str = "SELECT h.hour AS bucket, h.requests::bigint AS requests, h.failures::bigint AS failures \
     FROM event_hours h WHERE h.tenant_id = $1 AND h.hour >= $2 AND h.hour < $3 \
     UNION ALL \
     SELECT date_trunc('hour', e.occurred_at, 'UTC'), count(*), count(*) FILTER (WHERE e.status >= 400) \
     FROM provisioning_events e WHERE e.tenant_id = $1 AND e.occurred_at >= $3 \
     GROUP BY 1 ORDER BY 1";

/// Buckets shorter than an hour, counted from the events (the last hour or day only).
const MINUTELY: &str = "SELECT date_bin('1 minute', e.occurred_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, \
     count(*) AS requests, count(*) FILTER (WHERE e.status >= 400) AS failures \
     FROM provisioning_events e WHERE e.tenant_id = $1 AND e.occurred_at >= $2 GROUP BY 1 ORDER BY 1";
const QUARTER_HOURLY: &str = "SELECT date_bin('15 minutes', e.occurred_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket, \
     count(*) AS requests, count(*) FILTER (WHERE e.status >= 400) AS failures \
     FROM provisioning_events e WHERE e.tenant_id = $1 AND e.occurred_at >= $2 GROUP BY 1 ORDER BY 1";

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Timestamptz)]
    bucket: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    requests: i64,
    #[diesel(sql_type = BigInt)]
    failures: i64,
}

/// Up to when `event_hours` is complete (`None` before the first roll-up).
pub fn rolled_until(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>> {
    Ok(crate::schema::event_rollup::table
        .select(crate::schema::event_rollup::rolled_until)
        .first(conn)
        .optional()?)
}

/// Requests and failures per bucket since `since` (a bucket start): `(bucket start, requests,
/// failures)`, oldest first, buckets without requests left out.
pub fn buckets(
    conn: &mut PgConnection,
    tenant: TenantId,
    bucketing: Bucketing,
    since: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, i64, i64)>> {
    let rows: Vec<Counted> = match bucketing {
        Bucketing::Minute | Bucketing::QuarterHour => {
            let sql = if bucketing == Bucketing::Minute {
                MINUTELY
            } else {
                QUARTER_HOURLY
            };
            Prepared(
                diesel::sql_query(sql)
                    .bind::<Uuid, _>(tenant.as_uuid())
                    .bind::<Timestamptz, _>(since),
            )
            .load(conn)?
        }
        Bucketing::Hour | Bucketing::Day => {
            let counted_from = rolled_until(conn)?.map_or(since, |until| until.max(since));
            Prepared(
                diesel::sql_query(HOURLY)
                    .bind::<Uuid, _>(tenant.as_uuid())
                    .bind::<Timestamptz, _>(since)
                    .bind::<Timestamptz, _>(counted_from),
            )
            .load(conn)?
        }
    };
    let mut out: Vec<(DateTime<Utc>, i64, i64)> = Vec::with_capacity(rows.len());
    for row in rows {
        let start = bucketing.start_of(row.bucket);
        match out.last_mut() {
            Some(last) if last.0 == start => {
                last.1 += row.requests;
                last.2 += row.failures;
            }
            _ => out.push((start, row.requests, row.failures)),
        }
    }
    Ok(out)
}
