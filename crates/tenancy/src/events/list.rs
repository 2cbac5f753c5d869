//! Reading the activity log: a filtered page of events (by status, resource, operation, time and
//! a search), one event, and the few facts the connection health needs.

use chrono::{DateTime, Utc};
use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use super::EventRow;
use crate::error::Result;
use crate::ids::TenantId;
use crate::schema::provisioning_events;
use crate::stored::EventOperation;

/// Which events to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Only failures (status >= 400), or only successes.
    pub failed: Option<bool>,
    /// Only this resource type (`User`, `Group`, ...).
    pub resource_type: Option<String>,
    /// Only requests about this resource (its SCIM id).
    pub resource_id: Option<String>,
    /// Only requests that did this.
    pub operation: Option<EventOperation>,
    /// Only requests about these resources or naming this text.
    pub search: Option<EventSearch>,
    /// Only at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only before this time.
    pub until: Option<DateTime<Utc>>,
}

/// A search of the log: the events about any of `resource_ids` (the users and groups whose
/// names matched, found by the caller in the directory) or whose recorded subject (the userName
/// or group name the request carried) starts with `text`, ignoring case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventSearch {
    /// What was typed.
    pub text: String,
    /// Ids of the resources that match it now.
    pub resource_ids: Vec<String>,
}

/// Events are counted up to this many; beyond it a list says "more than" (counting two million
/// events exactly would cost more than the whole rest of the page).
pub const COUNT_LIMIT: i64 = 10_000;

type BoxedEvents<'a> = provisioning_events::BoxedQuery<'a, diesel::pg::Pg>;

fn filtered(tenant: TenantId, filter: &EventFilter) -> BoxedEvents<'_> {
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
    if let Some(operation) = filter.operation {
        query = query.filter(provisioning_events::operation.eq(operation));
    }
    if let Some(search) = &filter.search {
        // Two indexed conditions (the resource index and the subject index), combined by a
        // bitmap OR. The subject's prefix is a range of the stored folded subject, compared
        // with the (leakproof) pattern operators, so that row-level security lets the index
        // serve; PostgreSQL folds the text typed as it folded the stored one.
        let named = sql::<Bool>(
            "(provisioning_events.subject_key IS NOT NULL \
             AND provisioning_events.subject_key ~>=~ lower(",
        )
        .bind::<Text, _>(search.text.clone())
        .sql(") AND provisioning_events.subject_key ~<~ (lower(")
        .bind::<Text, _>(search.text.clone())
        .sql(") || U&'\\+10FFFF'))");
        query = if search.resource_ids.is_empty() {
            query.filter(named)
        } else {
            query.filter(
                provisioning_events::resource_id
                    .eq_any(search.resource_ids.clone())
                    .or(named),
            )
        };
    }
    if let Some(since) = filter.since {
        query = query.filter(provisioning_events::occurred_at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(provisioning_events::occurred_at.lt(until));
    }
    query
}

/// Runs `work` with its statements planned for their actual values, in a transaction of its
/// own (a savepoint inside one). The log's filters are statements diesel keeps prepared, and a
/// generic plan cannot tell a rare search from a common one (it scanned two million events for
/// four seconds); `SET LOCAL` ends with that transaction, so nothing carries over.
fn with_custom_plans<T>(
    conn: &mut PgConnection,
    work: impl FnOnce(&mut PgConnection) -> Result<T>,
) -> Result<T> {
    conn.transaction(|conn| {
        diesel::sql_query("SET LOCAL plan_cache_mode = force_custom_plan").execute(conn)?;
        work(conn)
    })
}

/// An event's place in the log's order: its time and id.
pub type EventKey = (DateTime<Utc>, i64);

/// The keys (time, id) of the events matching `filter`, newest first, when there are at most
/// `cap` of them (`None` when there are more). Read through whichever indexes the filter has,
/// in no order, and sorted here: for a selective filter that is a few thousand index entries,
/// where walking the time index for the newest matches would pass over millions of others.
pub fn matching_keys(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &EventFilter,
    cap: i64,
) -> Result<Option<Vec<EventKey>>> {
    let mut keys: Vec<EventKey> = with_custom_plans(conn, |conn| {
        Ok(filtered(tenant, filter)
            .select((provisioning_events::occurred_at, provisioning_events::id))
            .limit(cap + 1)
            .load(conn)?)
    })?;
    if keys.len() as i64 > cap {
        return Ok(None);
    }
    keys.sort_unstable_by(|a, b| b.cmp(a));
    Ok(Some(keys))
}

/// The events with these ids, newest first.
pub fn by_ids(conn: &mut PgConnection, tenant: TenantId, ids: &[i64]) -> Result<Vec<EventRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(provisioning_events::table
        .filter(provisioning_events::tenant_id.eq(tenant))
        .filter(provisioning_events::id.eq_any(ids))
        .order((
            provisioning_events::occurred_at.desc(),
            provisioning_events::id.desc(),
        ))
        .select(EventRow::as_select())
        .load(conn)?)
}

/// A page of events, newest first, and how many match in all, counted up to
/// [`COUNT_LIMIT`] + 1 (which means "more than [`COUNT_LIMIT`]"). When the count stays within
/// the limit, the matches' keys are already read and the page is fetched by them; past it,
/// matches are common and the time index finds the newest of them at once.
pub fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &EventFilter,
    offset: i64,
    limit: i64,
) -> Result<(Vec<EventRow>, i64)> {
    match matching_keys(conn, tenant, filter, COUNT_LIMIT)? {
        Some(keys) => {
            let page: Vec<i64> = keys
                .iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .take(usize::try_from(limit).unwrap_or(0))
                .map(|key| key.1)
                .collect();
            Ok((by_ids(conn, tenant, &page)?, keys.len() as i64))
        }
        None => Ok((page(conn, tenant, filter, offset, limit)?, COUNT_LIMIT + 1)),
    }
}

/// The page (`offset`, `limit`) of events matching `filter`, newest first, without a count.
pub fn page(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &EventFilter,
    offset: i64,
    limit: i64,
) -> Result<Vec<EventRow>> {
    with_custom_plans(conn, |conn| {
        Ok(filtered(tenant, filter)
            .order((
                provisioning_events::occurred_at.desc(),
                provisioning_events::id.desc(),
            ))
            .offset(offset)
            .limit(limit)
            .select(EventRow::as_select())
            .load(conn)?)
    })
}

/// Up to `limit` events matching `filter` that come after `(at, id)` in newest-first order
/// (all from the newest when `after` is `None`): the export reads the log in such chunks, each
/// through the time index, without an offset that grows.
pub fn page_after(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &EventFilter,
    after: Option<EventKey>,
    limit: i64,
) -> Result<Vec<EventRow>> {
    let mut query = filtered(tenant, filter);
    if let Some((at, id)) = after {
        query = query.filter(
            sql::<Bool>("(occurred_at, id) < (")
                .bind::<diesel::sql_types::Timestamptz, _>(at)
                .sql(", ")
                .bind::<diesel::sql_types::BigInt, _>(id)
                .sql(")"),
        );
    }
    with_custom_plans(conn, |conn| {
        Ok(query
            .order((
                provisioning_events::occurred_at.desc(),
                provisioning_events::id.desc(),
            ))
            .limit(limit)
            .select(EventRow::as_select())
            .load(conn)?)
    })
}

/// One event of the tenant.
pub fn find(conn: &mut PgConnection, tenant: TenantId, id: i64) -> Result<Option<EventRow>> {
    Ok(provisioning_events::table
        .find((tenant, id))
        .select(EventRow::as_select())
        .first(conn)
        .optional()?)
}

/// The newest `limit` events about the resource `resource_id`: a user's or group's
/// Provisioning history.
pub fn recent_about(
    conn: &mut PgConnection,
    tenant: TenantId,
    resource_id: &str,
    limit: i64,
) -> Result<Vec<EventRow>> {
    Ok(provisioning_events::table
        .filter(provisioning_events::tenant_id.eq(tenant))
        .filter(provisioning_events::resource_id.eq(resource_id))
        .order((
            provisioning_events::occurred_at.desc(),
            provisioning_events::id.desc(),
        ))
        .limit(limit)
        .select(EventRow::as_select())
        .load(conn)?)
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
