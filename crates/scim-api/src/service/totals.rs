//! `totalResults` for unfiltered lists without counting the whole tenant on every page.
//!
//! Okta's import walks every page of `/Users`; a `count(*)` per page would cost more than the
//! page itself. The count of an unfiltered list is cached per tenant and resource type for a few
//! seconds, dropped when this process creates or deletes a resource of that type, and checked
//! against the page it is returned with so that `totalResults` is never inconsistent with it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scim_protocol::schema::ResourceKind;
use tenancy::TenantId;

/// How long a cached total may be served.
const TTL: Duration = Duration::from_secs(5);

/// A tenant and whether the total is of users (else groups).
type Key = (TenantId, bool);
/// When a total was counted, and the total.
type Entry = (Instant, i64);

/// The cache, shared by every worker of the process.
#[derive(Clone, Default)]
pub struct Totals {
    cached: Arc<Mutex<HashMap<Key, Entry>>>,
}

fn key(tenant: TenantId, kind: ResourceKind) -> Key {
    (tenant, kind == ResourceKind::User)
}

impl Totals {
    /// A fresh cached total, if any.
    pub fn get(&self, tenant: TenantId, kind: ResourceKind) -> Option<i64> {
        let cached = self.cached.lock().ok()?;
        cached
            .get(&key(tenant, kind))
            .filter(|(at, _)| at.elapsed() < TTL)
            .map(|(_, total)| *total)
    }

    /// Remembers a total just counted.
    pub fn put(&self, tenant: TenantId, kind: ResourceKind, total: i64) {
        if let Ok(mut cached) = self.cached.lock() {
            cached.insert(key(tenant, kind), (Instant::now(), total));
        }
    }

    /// Forgets the total after a create or delete.
    pub fn forget(&self, tenant: TenantId, kind: ResourceKind) {
        if let Ok(mut cached) = self.cached.lock() {
            cached.remove(&key(tenant, kind));
        }
    }
}

/// `totalResults` for a page of `returned` rows: from the page itself when it is short (it ended
/// the list), else the cached total when it is consistent with the page, else `count()`.
pub fn total_for_page<E>(
    page: &tenancy::directory::Page,
    returned: usize,
    cached: Option<i64>,
    count: impl FnOnce() -> Result<i64, E>,
) -> Result<i64, E> {
    let returned = i64::try_from(returned).unwrap_or(i64::MAX);
    match total_from_page(page.offset, page.limit, returned) {
        Some(total) if page.limit > 0 => Ok(total),
        _ => match cached.filter(|total| consistent(*total, page.offset, returned)) {
            Some(total) => Ok(total),
            None => count(),
        },
    }
}

/// What is known of the total from the page alone: a short page ends the list.
fn total_from_page(offset: i64, limit: i64, returned: i64) -> Option<i64> {
    (returned < limit && (returned > 0 || offset == 0)).then_some(offset + returned)
}

/// Whether a total is consistent with a page (a full page means at least that many).
fn consistent(total: i64, offset: i64, returned: i64) -> bool {
    total >= offset + returned
}
