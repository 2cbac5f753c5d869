//! Each tenant's share of the database: while other tenants have work in flight, waiting, or
//! had some within the last [`ACTIVE_WINDOW`], a tenant runs at most its share of units of
//! database work at once, and its other requests wait; alone, it may use the whole pool. One tenant's burst (an identity provider pushing a
//! whole company) then queues behind its own work instead of taking connections and CPU from
//! every other tenant, and a tenant alone loses nothing: throughput comes from concurrency
//! (group commit).
//!
//! Per process, like the pool itself. A tenant is tracked while it is active.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use crate::error::Error;
use crate::ids::TenantId;

/// The work in flight and waiting, per tenant.
pub(crate) struct TenantShares {
    /// Units one tenant may run while others have work.
    share: usize,
    /// Units one tenant may run alone.
    alone: usize,
    wait_limit: Duration,
    state: Mutex<HashMap<TenantId, Counts>>,
}

/// How long a tenant counts as active after its last unit of work: an identity provider that
/// sends one request after another is not "in flight" between two of them, and must still be
/// protected from a neighbour's burst.
pub(crate) const ACTIVE_WINDOW: Duration = Duration::from_secs(1);
/// More tenants tracked than this, and those no longer active are swept at the next request.
const SWEEP_ABOVE: usize = 1024;

#[derive(Debug, Clone)]
struct Counts {
    running: usize,
    waiting: usize,
    last_seen: Instant,
    /// Wakes one of the tenant's waiters when one of its units ends. Only a tenant's own
    /// releases let its waiters in (its limit rises only when others go quiet, and then its
    /// own next release lets the next one in), so one is woken at a time, not all of them.
    released: Arc<Notify>,
}

impl Counts {
    fn new() -> Self {
        Self {
            running: 0,
            waiting: 0,
            last_seen: Instant::now(),
            released: Arc::new(Notify::new()),
        }
    }

    fn active(&self, now: Instant) -> bool {
        self.running > 0 || self.waiting > 0 || now.duration_since(self.last_seen) < ACTIVE_WINDOW
    }
}

/// One unit of work's share; given back when dropped.
pub(crate) struct Share<'a> {
    shares: &'a TenantShares,
    tenant: TenantId,
}

impl TenantShares {
    pub(crate) fn new(share: u32, alone: u32, wait_limit: Duration) -> Self {
        let to_usize = |n: u32| usize::try_from(n.max(1)).unwrap_or(usize::MAX);
        Self {
            share: to_usize(share),
            alone: to_usize(alone.max(share)),
            wait_limit,
            state: Mutex::default(),
        }
    }

    /// Waits for a share for `tenant`, at most the wait limit; then the database counts as
    /// unavailable for this request (503, retried by the identity provider).
    pub(crate) async fn acquire(&self, tenant: TenantId) -> Result<Share<'_>, Error> {
        let deadline = tokio::time::Instant::now() + self.wait_limit;
        let mut waiting = false;
        loop {
            let released = {
                let mut state = self.lock();
                let now = Instant::now();
                if state.len() > SWEEP_ABOVE {
                    state.retain(|_, c| c.active(now));
                }
                let others = state.iter().any(|(t, c)| *t != tenant && c.active(now));
                let counts = state.entry(tenant).or_insert_with(Counts::new);
                counts.last_seen = now;
                if waiting {
                    counts.waiting -= 1;
                }
                let limit = if others { self.share } else { self.alone };
                if counts.running < limit {
                    counts.running += 1;
                    return Ok(Share {
                        shares: self,
                        tenant,
                    });
                }
                counts.waiting += 1;
                waiting = true;
                counts.released.clone()
            };
            // A release between the check above and this wait leaves a permit: not missed.
            if tokio::time::timeout_at(deadline, released.notified())
                .await
                .is_err()
            {
                let mut state = self.lock();
                if let Some(counts) = state.get_mut(&tenant) {
                    counts.waiting -= 1;
                }
                Self::forget_idle(&mut state, tenant);
                return Err(Error::Unavailable);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Counts>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn forget_idle(state: &mut HashMap<TenantId, Counts>, tenant: TenantId) {
        let now = Instant::now();
        if state.get(&tenant).is_some_and(|c| !c.active(now)) {
            state.remove(&tenant);
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.lock().len()
    }
}

impl Drop for Share<'_> {
    fn drop(&mut self) {
        let mut state = self.shares.lock();
        if let Some(counts) = state.get_mut(&self.tenant) {
            counts.running -= 1;
            counts.last_seen = Instant::now();
            if counts.waiting > 0 {
                counts.released.notify_one();
            }
        }
        TenantShares::forget_idle(&mut state, self.tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn alone_a_tenant_uses_the_pool_with_others_its_share() {
        let shares = TenantShares::new(2, 4, Duration::from_millis(50));
        let busy = TenantId::new_random();
        let quiet = TenantId::new_random();
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(
                shares
                    .acquire(busy)
                    .await
                    .map_err(|_| "alone, up to the pool"),
            );
        }
        assert!(held.iter().all(Result::is_ok));
        assert!(
            matches!(shares.acquire(busy).await, Err(Error::Unavailable)),
            "not past the pool"
        );
        let quiet_share = shares.acquire(quiet).await;
        assert!(quiet_share.is_ok(), "another tenant is not held up");
        held.truncate(2);
        drop(quiet_share);
        assert!(
            matches!(shares.acquire(busy).await, Err(Error::Unavailable)),
            "while another tenant was active a moment ago, the busy one keeps to its share"
        );
        tokio::time::sleep(ACTIVE_WINDOW).await;
        assert!(shares.acquire(busy).await.is_ok(), "alone again");
    }

    #[tokio::test]
    async fn a_release_wakes_a_waiter() {
        let shares = std::sync::Arc::new(TenantShares::new(1, 1, Duration::from_secs(5)));
        let tenant = TenantId::new_random();
        let first = shares.acquire(tenant).await.map_err(|_| "first");
        assert!(first.is_ok());
        let waiter = {
            let shares = shares.clone();
            tokio::spawn(async move { shares.acquire(tenant).await.is_ok() })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(first);
        assert!(waiter.await.unwrap_or(false));
    }

    #[tokio::test]
    async fn idle_tenants_are_forgotten() {
        let shares = TenantShares::new(2, 2, Duration::from_millis(20));
        let tenant = TenantId::new_random();
        let held = (shares.acquire(tenant).await, shares.acquire(tenant).await);
        assert!(shares.acquire(tenant).await.is_err());
        assert_eq!(shares.tracked(), 1);
        drop(held);
        tokio::time::sleep(ACTIVE_WINDOW).await;
        let other = shares.acquire(TenantId::new_random()).await;
        drop(other);
        let now = Instant::now();
        let active = shares.lock().values().filter(|c| c.active(now)).count();
        assert_eq!(
            active, 1,
            "only the tenant seen a moment ago is still active"
        );
    }
}
