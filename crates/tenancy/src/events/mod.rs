//! The provisioning activity log: one row per authenticated SCIM request, written by the SCIM
//! API ([`insert_many`], or with the write it records) and read by the console ([`list`],
//! [`buckets`], [`names`]).

mod buckets;
mod list;
mod names;

pub use self::buckets::{Bucketing, buckets, rolled_until};
pub use self::list::{
    COUNT_LIMIT, EventFilter, EventSearch, any, by_ids, find, last_error, last_write_to, list,
    matching_keys, page, page_after, recent_about,
};
pub use self::names::{ResourceName, names};

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::error::Result;
use crate::ids::{TenantId, TokenId};
use crate::prepared::Prepared;
use crate::schema::provisioning_events;
use crate::stored::EventOperation;

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
    /// What the request did.
    pub operation: EventOperation,
    /// The userName or group displayName the request carried, as sent.
    pub subject: Option<String>,
    /// The SCIM error body answered to a failed request, redacted like the payload.
    pub response: Option<Value>,
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
            &mut self.subject,
        ]
        .into_iter()
        .flatten()
        {
            clean(text);
        }
        for json in [&mut self.payload, &mut self.response]
            .into_iter()
            .flatten()
        {
            clean_json(json);
        }
        self
    }
}

/// The columns of an event as [`events_json`] writes them (all but the tenant and the id).
const EVENT_COLUMNS: [&str; 13] = [
    "occurred_at",
    "method",
    "path",
    "status",
    "resource_type",
    "resource_id",
    "token_id",
    "duration_us",
    "error",
    "payload",
    "operation",
    "subject",
    "response",
];

/// The SQL that inserts, for the tenant bound at `tenant`, the events of a JSON array bound at
/// `events` (see [`events_json`]), for use as a data-modifying CTE beside the write it records,
/// so that the write and its event are one statement and one commit. The tenant is a bound
/// parameter, never read from the JSON: every row of the statement goes to that tenant (one
/// shard, once the table is distributed by `tenant_id`).
pub(crate) fn insert_from_json_sql(tenant: &str, events: &str) -> String {
    insert_from(
        tenant,
        &format!("jsonb_populate_recordset(NULL::provisioning_events, {events}) r"),
    )
}

/// [`insert_from_json_sql`] for a write of many rows: for each row of the `FROM` items `rows`,
/// the events of its JSON array `events` (a column of `rows`), so that only the rows `rows`
/// selects (those written) have their events stored.
pub(crate) fn insert_per_row_from_json_sql(tenant: &str, rows: &str, events: &str) -> String {
    insert_from(
        tenant,
        &format!(
            "{rows} CROSS JOIN LATERAL jsonb_populate_recordset(NULL::provisioning_events, {events}) r"
        ),
    )
}

/// The INSERT of the events `r` of the `FROM` items `from`, for the tenant bound at `tenant`.
fn insert_from(tenant: &str, from: &str) -> String {
    let from_r: Vec<String> = EVENT_COLUMNS.iter().map(|c| format!("r.{c}")).collect();
    format!(
        "INSERT INTO provisioning_events (tenant_id, {}) SELECT {tenant}::uuid, {} FROM {from}",
        EVENT_COLUMNS.join(", "),
        from_r.join(", ")
    )
}

/// [`insert_many`]'s statement, with the tenant as `$1` and its events as `$2`.
pub static INSERT_MANY: LazyLock<String> = LazyLock::new(|| insert_from_json_sql("$1", "$2"));

/// Events as the JSON array [`insert_from_json_sql`] reads.
pub fn events_json(events: &[NewEvent]) -> Value {
    serde_json::to_value(events).unwrap_or(Value::Array(Vec::new()))
}

/// Records events with one INSERT per tenant among them, each of a text that is the same for
/// any number of events (one JSON parameter), so that it stays prepared: a multi-row `VALUES`
/// list would be planned anew for every batch size. All or none: several tenants' INSERTs are
/// one transaction.
pub fn insert_many(conn: &mut PgConnection, events: &[NewEvent]) -> Result<usize> {
    all_or_none(
        conn,
        by_tenant(events, |event| event.tenant_id),
        |conn, tenant, of_tenant| {
            Ok(Prepared(
                diesel::sql_query(INSERT_MANY.as_str())
                    .bind::<diesel::sql_types::Uuid, _>(tenant.as_uuid())
                    .bind::<diesel::sql_types::Jsonb, _>(events_json(&of_tenant)),
            )
            .execute(conn)?)
        },
    )
}

/// Runs `write` for each tenant's group and adds up the rows written: in one transaction when
/// there are several groups (one group needs none, and costs no extra round trip).
pub(crate) fn all_or_none<T>(
    conn: &mut PgConnection,
    groups: Vec<(TenantId, Vec<T>)>,
    write: impl Fn(&mut PgConnection, TenantId, Vec<T>) -> Result<usize>,
) -> Result<usize> {
    let several = groups.len() > 1;
    let write_all = |conn: &mut PgConnection| -> Result<usize> {
        let mut written = 0;
        for (tenant, group) in groups {
            written += write(conn, tenant, group)?;
        }
        Ok(written)
    };
    if several {
        crate::db::transaction(conn, write_all)
    } else {
        write_all(conn)
    }
}

/// `items` grouped by tenant, in the order each tenant first appears (one tenant: one group,
/// without copying more than the slice).
pub(crate) fn by_tenant<T: Clone>(
    items: &[T],
    tenant_of: impl Fn(&T) -> TenantId,
) -> Vec<(TenantId, Vec<T>)> {
    let mut groups: Vec<(TenantId, Vec<T>)> = Vec::new();
    for item in items {
        let tenant = tenant_of(item);
        match groups.iter_mut().find(|(t, _)| *t == tenant) {
            Some((_, group)) => group.push(item.clone()),
            None => groups.push((tenant, vec![item.clone()])),
        }
    }
    groups
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
    /// What the request did.
    pub operation: EventOperation,
    /// The userName or group displayName the request carried.
    pub subject: Option<String>,
    /// The error body answered, for a failure.
    pub response: Option<Value>,
}
