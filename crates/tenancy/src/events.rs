//! The provisioning activity log: one row per authenticated SCIM request.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::error::Result;
use crate::ids::{TenantId, TokenId};
use crate::prepared::Prepared;
use crate::schema::provisioning_events;

/// An event to record. The payload must already have its secrets removed.
#[derive(Debug, Clone, Insertable, serde::Serialize)]
#[diesel(table_name = provisioning_events)]
pub struct NewEvent {
    /// The tenant.
    pub tenant_id: TenantId,
    /// When the request arrived.
    pub occurred_at: DateTime<Utc>,
    /// HTTP method.
    pub method: String,
    /// Path below the tenant's SCIM base, with the query string.
    pub path: String,
    /// HTTP status answered.
    pub status: i16,
    /// `User`, `Group`, or a discovery resource.
    pub resource_type: Option<String>,
    /// The resource's id, when one was addressed or created.
    pub resource_id: Option<String>,
    /// The token that authenticated the request.
    pub token_id: Option<TokenId>,
    /// Time to answer, in microseconds.
    pub duration_us: i64,
    /// What went wrong, in plain words.
    pub error: Option<String>,
    /// The request body, redacted.
    pub payload: Option<Value>,
}

impl NewEvent {
    /// The event with every text made storable: PostgreSQL's `text` and `jsonb` cannot hold
    /// U+0000, which an identity provider can put into a path (`/Users/a%00b`) or a filter, so
    /// it is replaced by U+FFFD wherever it appears. One such event must never fail the batch
    /// it is written with.
    pub fn storable(mut self) -> Self {
        fn clean(text: &mut String) {
            if text.contains('\0') {
                *text = text.replace('\0', "\u{FFFD}");
            }
        }
        fn clean_json(value: &mut Value) {
            match value {
                Value::String(text) => clean(text),
                Value::Array(items) => items.iter_mut().for_each(clean_json),
                Value::Object(map) => {
                    if map.keys().any(|key| key.contains('\0')) {
                        *map = std::mem::take(map)
                            .into_iter()
                            .map(|(key, value)| (key.replace('\0', "\u{FFFD}"), value))
                            .collect();
                    }
                    map.values_mut().for_each(clean_json);
                }
                Value::Null | Value::Bool(_) | Value::Number(_) => {}
            }
        }
        clean(&mut self.method);
        clean(&mut self.path);
        for text in [
            &mut self.resource_type,
            &mut self.resource_id,
            &mut self.error,
        ]
        .into_iter()
        .flatten()
        {
            clean(text);
        }
        if let Some(payload) = &mut self.payload {
            clean_json(payload);
        }
        self
    }
}

/// The SQL that inserts the events of a JSON array bound at `placeholder` (see
/// [`events_json`]), for use as a data-modifying CTE beside the write it records, so that the
/// write and its event are one statement and one commit.
pub(crate) fn insert_from_json_sql(placeholder: &str) -> String {
    format!(
        "INSERT INTO provisioning_events (tenant_id, occurred_at, method, path, status, resource_type, \
         resource_id, token_id, duration_us, error, payload) \
         SELECT tenant_id, occurred_at, method, path, status, resource_type, resource_id, token_id, \
         duration_us, error, payload FROM jsonb_populate_recordset(NULL::provisioning_events, {placeholder})"
    )
}

/// [`insert_many`]'s statement, with the events as `$1`.
pub static INSERT_MANY: LazyLock<String> = LazyLock::new(|| insert_from_json_sql("$1"));

/// Events as the JSON array [`insert_from_json_sql`] reads.
pub fn events_json(events: &[NewEvent]) -> Value {
    serde_json::to_value(events).unwrap_or(Value::Array(Vec::new()))
}

/// Records events in one INSERT whose text is the same for any number of events (one JSON
/// parameter), so that it stays prepared: a multi-row `VALUES` list would be planned anew for
/// every batch size.
pub fn insert_many(conn: &mut PgConnection, events: &[NewEvent]) -> Result<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    Ok(Prepared(
        diesel::sql_query(INSERT_MANY.as_str())
            .bind::<diesel::sql_types::Jsonb, _>(events_json(events)),
    )
    .execute(conn)?)
}

/// A recorded event.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = provisioning_events, check_for_backend(diesel::pg::Pg))]
pub struct EventRow {
    /// The tenant.
    pub tenant_id: TenantId,
    /// Sequence number.
    pub id: i64,
    /// When the request arrived.
    pub occurred_at: DateTime<Utc>,
    /// HTTP method.
    pub method: String,
    /// Path below the tenant base, with query.
    pub path: String,
    /// HTTP status.
    pub status: i16,
    /// Resource type.
    pub resource_type: Option<String>,
    /// Resource id.
    pub resource_id: Option<String>,
    /// Token used.
    pub token_id: Option<TokenId>,
    /// Microseconds to answer.
    pub duration_us: i64,
    /// The error in plain words.
    pub error: Option<String>,
    /// The redacted request body.
    pub payload: Option<Value>,
}

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only failures (status >= 400), or only successes.
    pub failed: Option<bool>,
    /// Only this resource type (`User`, `Group`, ...).
    pub resource_type: Option<String>,
    /// Only requests about this resource (its SCIM id).
    pub resource_id: Option<String>,
    /// Only at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only before this time.
    pub until: Option<DateTime<Utc>>,
}

/// Events are counted up to this many; beyond it a list says "more than" (counting two million
/// events exactly would cost more than the whole rest of the page).
pub const COUNT_LIMIT: i64 = 10_000;

/// A page of events, newest first, and how many match in all, counted up to
/// [`COUNT_LIMIT`] + 1 (which means "more than [`COUNT_LIMIT`]").
pub fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &EventFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<EventRow>, i64)> {
    let query = || {
        let mut query = provisioning_events::table
            .filter(provisioning_events::tenant_id.eq(tenant))
            .into_boxed();
        match filter.failed {
            Some(true) => query = query.filter(provisioning_events::status.ge(400)),
            Some(false) => query = query.filter(provisioning_events::status.lt(400)),
            None => {}
        }
        if let Some(kind) = &filter.resource_type {
            query = query.filter(provisioning_events::resource_type.eq(kind.clone()));
        }
        if let Some(id) = &filter.resource_id {
            query = query.filter(provisioning_events::resource_id.eq(id.clone()));
        }
        if let Some(since) = filter.since {
            query = query.filter(provisioning_events::occurred_at.ge(since));
        }
        if let Some(until) = filter.until {
            query = query.filter(provisioning_events::occurred_at.lt(until));
        }
        query
    };
    let total = i64::try_from(
        query()
            .select(provisioning_events::id)
            .limit(COUNT_LIMIT + 1)
            .load::<i64>(conn)?
            .len(),
    )
    .unwrap_or(COUNT_LIMIT + 1);
    let rows = query()
        .order((
            provisioning_events::occurred_at.desc(),
            provisioning_events::id.desc(),
        ))
        .offset(offset)
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?;
    Ok((rows, total))
}

/// One event of the tenant.
pub fn find(conn: &mut PgConnection, tenant: TenantId, id: i64) -> Result<Option<EventRow>> {
    Ok(provisioning_events::table
        .find((tenant, id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}

/// The last successful write (PUT, PATCH or POST) about `resource_id` at or before `at`: the
/// request that, for example, deactivated a user.
pub fn last_write_to(
    conn: &mut PgConnection,
    tenant: TenantId,
    resource_id: &str,
    at: DateTime<Utc>,
) -> Result<Option<EventRow>> {
    Ok(provisioning_events::table
        .filter(provisioning_events::tenant_id.eq(tenant))
        .filter(provisioning_events::resource_id.eq(resource_id))
        .filter(provisioning_events::occurred_at.le(at))
        .filter(provisioning_events::status.lt(300))
        .filter(provisioning_events::method.eq_any(["PUT", "PATCH", "POST"]))
        .order(provisioning_events::occurred_at.desc())
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}

/// Whether the tenant's identity provider has made any request that was recorded.
pub fn any(conn: &mut PgConnection, tenant: TenantId) -> Result<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        provisioning_events::table.filter(provisioning_events::tenant_id.eq(tenant)),
    ))
    .get_result(conn)?)
}

/// The most recent failed request, if any.
pub fn last_error(conn: &mut PgConnection, tenant: TenantId) -> Result<Option<EventRow>> {
    Ok(provisioning_events::table
        .filter(provisioning_events::tenant_id.eq(tenant))
        .filter(provisioning_events::status.ge(400))
        .order(provisioning_events::occurred_at.desc())
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}

/// The chart's hours: the rolled-up ones (see [`crate::maintenance`]) before `$3` and, from
/// `$3` on, the hours counted from the events themselves. `$3` (the later of the chart's start
/// and the end of the roll-up) is read first and bound as a value, so that the planner sees how
/// short the counted range is and reads it through the tenant's time index; computed inside
/// the statement, it would be an unknown and the planner would estimate a third of the table.
const HOURLY: &str = "SELECT h.hour, h.requests::bigint AS requests, h.failures::bigint AS failures \
     FROM event_hours h WHERE h.tenant_id = $1 AND h.hour >= $2 AND h.hour < $3 \
     UNION ALL \
     SELECT date_trunc('hour', e.occurred_at, 'UTC'), count(*), count(*) FILTER (WHERE e.status >= 400) \
     FROM provisioning_events e WHERE e.tenant_id = $1 AND e.occurred_at >= $3 \
     GROUP BY 1 ORDER BY 1";

/// Up to when `event_hours` is complete (`None` before the first roll-up).
pub fn rolled_until(conn: &mut PgConnection) -> Result<Option<DateTime<Utc>>> {
    Ok(crate::schema::event_rollup::table
        .select(crate::schema::event_rollup::rolled_until)
        .first(conn)
        .optional()?)
}

/// Requests and failures per hour (UTC) since `since`: `(hour, requests, failures)`, oldest
/// first.
pub fn hourly(
    conn: &mut PgConnection,
    tenant: TenantId,
    since: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, i64, i64)>> {
    #[derive(QueryableByName)]
    struct Hour {
        #[diesel(sql_type = diesel::sql_types::Timestamptz)]
        hour: DateTime<Utc>,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        requests: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        failures: i64,
    }
    let counted_from = rolled_until(conn)?.map_or(since, |until| until.max(since));
    let rows: Vec<Hour> = Prepared(
        diesel::sql_query(HOURLY)
            .bind::<diesel::sql_types::Uuid, _>(tenant.as_uuid())
            .bind::<diesel::sql_types::Timestamptz, _>(since)
            .bind::<diesel::sql_types::Timestamptz, _>(counted_from),
    )
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|h| (h.hour, h.requests, h.failures))
        .collect())
}
