//! Each tenant's share of the connection pool: at most so many units of database work of one
//! tenant run at once, so that one tenant's burst (an identity provider pushing a whole company)
//! queues behind its own work and leaves connections for every other tenant.
//!
//! Per process, like the pool itself. A tenant's semaphore exists only while some of its work
//! holds or waits for a share.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::Error;
use crate::ids::TenantId;

/// The semaphores of the tenants with work in flight.
pub(crate) struct TenantShares {
    per_tenant: usize,
    wait_limit: Duration,
    tenants: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
}

/// One unit of work's share; given back when dropped.
pub(crate) struct Share<'a> {
    shares: &'a TenantShares,
    tenant: TenantId,
    permit: Option<OwnedSemaphorePermit>,
}

impl TenantShares {
    pub(crate) fn new(per_tenant: u32, wait_limit: Duration) -> Self {
        Self {
            per_tenant: usize::try_from(per_tenant.max(1)).unwrap_or(usize::MAX),
            wait_limit,
            tenants: Mutex::default(),
        }
    }

    /// Waits for one of `tenant`'s shares, at most the wait limit; then the database counts as
    /// unavailable for this request (503, retried by the identity provider).
    pub(crate) async fn acquire(&self, tenant: TenantId) -> Result<Share<'_>, Error> {
        let semaphore = {
            let mut tenants = self.tenants.lock().unwrap_or_else(PoisonError::into_inner);
            tenants
                .entry(tenant)
                .or_insert_with(|| Arc::new(Semaphore::new(self.per_tenant)))
                .clone()
        };
        let mut share = Share {
            shares: self,
            tenant,
            permit: None,
        };
        match tokio::time::timeout(self.wait_limit, semaphore.acquire_owned()).await {
            Ok(Ok(permit)) => {
                share.permit = Some(permit);
                Ok(share)
            }
            // Timed out (or closed, which never happens): the dropped `share` tidies up.
            _ => Err(Error::Unavailable),
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

impl Drop for Share<'_> {
    fn drop(&mut self) {
        let mut tenants = self
            .shares
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        drop(self.permit.take());
        // Only the map holds the semaphore now: nobody of this tenant holds or awaits a share.
        if tenants
            .get(&self.tenant)
            .is_some_and(|semaphore| Arc::strong_count(semaphore) == 1)
        {
            tenants.remove(&self.tenant);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_tenant_waits_for_its_own_shares_only() {
        let shares = TenantShares::new(2, Duration::from_millis(50));
        let busy = TenantId::new_random();
        let other = TenantId::new_random();
        let first = shares.acquire(busy).await;
        let second = shares.acquire(busy).await;
        assert!(first.is_ok() && second.is_ok());
        assert!(
            matches!(shares.acquire(busy).await, Err(Error::Unavailable)),
            "a third unit of work of the same tenant waits, then gives up"
        );
        assert!(
            shares.acquire(other).await.is_ok(),
            "another tenant is not held up"
        );
        drop((first, second));
        assert!(shares.acquire(busy).await.is_ok());
    }

    #[tokio::test]
    async fn idle_tenants_are_forgotten() {
        let shares = TenantShares::new(2, Duration::from_millis(50));
        let share = shares.acquire(TenantId::new_random()).await;
        assert_eq!(shares.tracked(), 1);
        drop(share);
        assert_eq!(shares.tracked(), 0);
    }
}
