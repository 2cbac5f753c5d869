//! The activity log's units of work: a page of events with the chart, and one event. Each is
//! one `Db::run`; no actix types.

use chrono::{DateTime, Utc};
use tenancy::events::{self, EventFilter, EventRow};
use tenancy::{Db, TenantId};

use crate::error::ConsoleError;

/// A page of events, how many match (counted up to [`events::COUNT_LIMIT`] + 1), and the
/// chart's hours since `chart_since`.
#[derive(Debug)]
pub struct ActivityList {
    /// The page, newest first.
    pub events: Vec<EventRow>,
    /// Events matching the filter, up to the count limit + 1.
    pub total: i64,
    /// `(hour, requests, failures)`.
    pub hours: Vec<(DateTime<Utc>, i64, i64)>,
}

/// The page (`offset`, `limit`) of events matching `filter`, with the chart.
pub async fn list_activity(
    db: &Db,
    tenant: TenantId,
    filter: EventFilter,
    offset: i64,
    limit: i64,
    chart_since: DateTime<Utc>,
) -> Result<ActivityList, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            let (events, total) = events::list(conn, tenant, &filter, offset, limit)?;
            let hours = events::hourly(conn, tenant, chart_since)?;
            Ok(ActivityList {
                events,
                total,
                hours,
            })
        })
        .await?)
}

/// The event `id` of the tenant.
pub async fn event(db: &Db, tenant: TenantId, id: i64) -> Result<EventRow, ConsoleError> {
    db.run(tenant, move |conn| events::find(conn, tenant, id))
        .await?
        .ok_or(ConsoleError::NotFound)
}
