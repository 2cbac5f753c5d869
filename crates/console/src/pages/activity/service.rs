//! The activity log's units of work: a page of events (or of refused requests) with the chart,
//! one event with what it collided with, and the export's chunks. Each is one `Db::run_read`
//! (they tolerate a streaming replica's lag); no actix types.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tenancy::directory::{groups, user_search, users};
use tenancy::events::{self, Bucketing, EventFilter, EventRow, EventSearch, ResourceName};
use tenancy::rejections::{self, RejectedMinute};
use tenancy::{Db, PgConnection, TenantId};

use crate::error::ConsoleError;

/// A search names the events of at most this many matching users (and as many groups): a
/// search broad enough to match more shows the events of the first ones, and says so.
pub const SEARCH_RESOURCES: i64 = 200;

/// What the list asks for.
#[derive(Debug, Clone)]
pub struct ActivityRequest {
    /// The filters, the search still as typed (its resources are found here).
    pub filter: EventFilter,
    /// What was typed in the search box.
    pub search: Option<String>,
    /// The refused requests instead of the events.
    pub rejected: bool,
    /// The page.
    pub offset: i64,
    /// Its size.
    pub limit: i64,
    /// The chart's bucket.
    pub bucketing: Bucketing,
    /// The chart's first bucket.
    pub chart_since: DateTime<Utc>,
}

/// A page of the log, how many match (counted up to [`events::COUNT_LIMIT`] + 1), and the
/// chart's buckets.
#[derive(Debug)]
pub struct ActivityList {
    /// The events of the page, newest first.
    pub events: Vec<EventRow>,
    /// The refused requests of the page, when they were asked for.
    pub rejected: Vec<RejectedMinute>,
    /// Events (or refused minutes) matching, up to the count limit + 1.
    pub total: i64,
    /// The resources of the page's events that still exist.
    pub names: HashMap<String, ResourceName>,
    /// Whether the search matched more resources than it looks at.
    pub search_capped: bool,
    /// The page's tokens that were minted for a connection test.
    pub self_test_tokens: Vec<tenancy::TokenId>,
    /// `(bucket, requests, failures)`.
    pub buckets: Vec<(DateTime<Utc>, i64, i64)>,
}

/// The search's resources: the users and groups whose names match now, and the text itself
/// (a resource id, or the start of a name a request carried). Whether it was capped.
fn resolve_search(
    conn: &mut PgConnection,
    tenant: TenantId,
    text: &str,
) -> Result<(EventSearch, bool), tenancy::Error> {
    let users = user_search::ids_matching(conn, tenant, text, SEARCH_RESOURCES + 1)?;
    let groups = groups::ids_named_like(conn, tenant, text, SEARCH_RESOURCES + 1)?;
    let capped = users.len() as i64 > SEARCH_RESOURCES || groups.len() as i64 > SEARCH_RESOURCES;
    let mut resource_ids: Vec<String> = users
        .iter()
        .take(SEARCH_RESOURCES as usize)
        .map(ToString::to_string)
        .chain(
            groups
                .iter()
                .take(SEARCH_RESOURCES as usize)
                .map(ToString::to_string),
        )
        .collect();
    // An id pasted from a path or an IdP's log finds the events about it, existing or not.
    if let Ok(id) = text.parse::<uuid::Uuid>() {
        resource_ids.push(id.to_string());
    }
    Ok((
        EventSearch {
            text: text.to_owned(),
            resource_ids,
        },
        capped,
    ))
}

/// The page the request asks for, with the chart.
pub async fn list_activity(
    db: &Db,
    tenant: TenantId,
    request: ActivityRequest,
) -> Result<ActivityList, ConsoleError> {
    Ok(db
        .run_read(tenant, move |conn| -> Result<_, tenancy::Error> {
            let mut filter = request.filter;
            let mut search_capped = false;
            if let Some(text) = &request.search {
                let (search, capped) = resolve_search(conn, tenant, text)?;
                filter.search = Some(search);
                search_capped = capped;
            }
            let buckets = events::buckets(conn, tenant, request.bucketing, request.chart_since)?;
            if request.rejected {
                let (rejected, total) = rejections::minutes(
                    conn,
                    tenant,
                    filter.since,
                    filter.until,
                    (request.offset, request.limit),
                    events::COUNT_LIMIT,
                )?;
                return Ok(ActivityList {
                    events: Vec::new(),
                    rejected,
                    total,
                    names: HashMap::new(),
                    search_capped,
                    self_test_tokens: Vec::new(),
                    buckets,
                });
            }
            let (events, total) =
                events::list(conn, tenant, &filter, request.offset, request.limit)?;
            let names = events::names(conn, tenant, &events)?;
            let mut tokens: Vec<tenancy::TokenId> =
                events.iter().filter_map(|e| e.token_id).collect();
            tokens.sort_unstable();
            tokens.dedup();
            let self_test_tokens = tenancy::scim_tokens::self_test_tokens(conn, tenant, &tokens)?;
            Ok(ActivityList {
                events,
                rejected: Vec::new(),
                total,
                names,
                search_capped,
                self_test_tokens,
                buckets,
            })
        })
        .await?)
}

/// One event, the names of its resource, and, for a 409, the resource it collided with.
#[derive(Debug)]
pub struct EventDetail {
    /// The event.
    pub event: EventRow,
    /// Its resource, when it still exists.
    pub names: HashMap<String, ResourceName>,
    /// The existing user or group whose userName or name the failed create or replace used.
    pub collided_with: Option<ResourceName>,
}

/// The event `id` of the tenant.
pub async fn event(db: &Db, tenant: TenantId, id: i64) -> Result<EventDetail, ConsoleError> {
    db.run_read(tenant, move |conn| -> Result<_, tenancy::Error> {
        let Some(event) = events::find(conn, tenant, id)? else {
            return Ok(None);
        };
        let names = events::names(conn, tenant, std::slice::from_ref(&event))?;
        let collided_with = match (&event.subject, event.status) {
            (Some(subject), 409) => collided(conn, tenant, &event, subject)?,
            _ => None,
        };
        Ok(Some(EventDetail {
            event,
            names,
            collided_with,
        }))
    })
    .await?
    .ok_or(ConsoleError::NotFound)
}

fn collided(
    conn: &mut PgConnection,
    tenant: TenantId,
    event: &EventRow,
    subject: &str,
) -> Result<Option<ResourceName>, tenancy::Error> {
    Ok(match event.resource_type.as_deref() {
        Some("User") => {
            users::find_by_user_name(conn, tenant, subject)?.map(|user| ResourceName::User {
                id: user.id,
                name: user.name_or_user_name(),
                user_name: user.user_name,
            })
        }
        Some("Group") => {
            groups::find_by_name(conn, tenant, subject)?.map(|group| ResourceName::Group {
                id: group.id,
                name: group.display_name,
            })
        }
        _ => None,
    })
}

/// Up to this many matching events are exported by their keys, read once through the
/// filter's own indexes (as the list reads them); beyond it, matches are common enough for the
/// export to walk the time index. (At 100,000, reading the keys of 60,000 failures delayed the
/// first byte by 220 ms.)
pub const EXPORT_BY_KEYS: i64 = events::COUNT_LIMIT;

/// Where an export is.
#[derive(Debug, Clone)]
pub enum ExportCursor {
    /// The ids still to export, newest first.
    Keys(std::collections::VecDeque<i64>),
    /// After this key (from the newest when `None`) in the time index.
    After(Option<(DateTime<Utc>, i64)>),
    /// Done.
    Done,
}

/// A chunk of the export and where the next one starts.
pub type ExportChunk = (Vec<EventRow>, HashMap<String, ResourceName>, ExportCursor);

/// Starts an export: resolves its search and, for a selective filter, reads the matching keys.
pub async fn export_start(
    db: &Db,
    tenant: TenantId,
    mut filter: EventFilter,
    search: Option<String>,
) -> Result<(EventFilter, ExportCursor), ConsoleError> {
    Ok(db
        .run_read(tenant, move |conn| -> Result<_, tenancy::Error> {
            if let Some(text) = &search {
                filter.search = Some(resolve_search(conn, tenant, text)?.0);
            }
            let cursor = match events::matching_keys(conn, tenant, &filter, EXPORT_BY_KEYS)? {
                Some(keys) => ExportCursor::Keys(keys.into_iter().map(|key| key.1).collect()),
                None => ExportCursor::After(None),
            };
            Ok((filter, cursor))
        })
        .await?)
}

/// The next chunk of up to `limit` events of the export at `cursor`, with their resources'
/// names.
pub async fn export_chunk(
    db: &Db,
    tenant: TenantId,
    filter: EventFilter,
    cursor: ExportCursor,
    limit: i64,
) -> Result<ExportChunk, ConsoleError> {
    Ok(db
        .run_read(tenant, move |conn| -> Result<_, tenancy::Error> {
            let size = usize::try_from(limit).unwrap_or(0);
            let (events, next) = match cursor {
                ExportCursor::Done => (Vec::new(), ExportCursor::Done),
                ExportCursor::Keys(mut ids) => {
                    let chunk: Vec<i64> = ids.drain(..size.min(ids.len())).collect();
                    let events = events::by_ids(conn, tenant, &chunk)?;
                    let next = if ids.is_empty() {
                        ExportCursor::Done
                    } else {
                        ExportCursor::Keys(ids)
                    };
                    (events, next)
                }
                ExportCursor::After(after) => {
                    let events = events::page_after(conn, tenant, &filter, after, limit)?;
                    let next = match events.last() {
                        Some(last) if events.len() >= size => {
                            ExportCursor::After(Some((last.occurred_at, last.id)))
                        }
                        _ => ExportCursor::Done,
                    };
                    (events, next)
                }
            };
            let names = events::names(conn, tenant, &events)?;
            Ok((events, names, next))
        })
        .await?)
}
