//! Throttling of failures: token buckets (governor's GCRA) that only failed attempts drain, and
//! the time a key must wait once its bucket is empty. Used for wrong SCIM bearer tokens (per
//! client address and per tenant) and wrong console passwords (per client address).
//!
//! Per process: each server replica keeps its own buckets. Behind a load balancer a client can
//! therefore make up to `replicas` times as many attempts; the per-account back-off of console
//! sign-in is stored in the database and shared.

use std::collections::HashMap;
use std::hash::Hash;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// How many failures a key may have at once, and how fast they are forgiven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailureQuota {
    /// Failures allowed in a burst before the key must wait.
    pub burst: u32,
    /// One more failure is allowed per this much time.
    pub refill_every: Duration,
}

impl FailureQuota {
    /// `burst` failures at once, then one more per `refill_every`.
    pub const fn new(burst: u32, refill_every: Duration) -> Self {
        Self {
            burst,
            refill_every,
        }
    }

    fn quota(self) -> Quota {
        let burst = NonZeroU32::new(self.burst).unwrap_or(NonZeroU32::MIN);
        Quota::with_period(self.refill_every.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst)
    }
}

/// More keys than any legitimate load has; past it, expired keys are swept, and if that is not
/// enough the waits are forgotten rather than memory grown without bound.
const MAX_BLOCKED_KEYS: usize = 100_000;
/// Failures between two sweeps of the buckets of keys that have been quiet.
const SWEEP_EVERY: u32 = 1024;

/// Failure buckets per key, and the keys that must wait.
pub struct FailureLimiter<K: Hash + Eq + Clone> {
    quota: FailureQuota,
    buckets: DefaultKeyedRateLimiter<K>,
    blocked: Mutex<HashMap<K, Instant>>,
    failures: AtomicU32,
}

impl<K: Hash + Eq + Clone> std::fmt::Debug for FailureLimiter<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FailureLimiter")
            .field("quota", &self.quota)
            .finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone> FailureLimiter<K> {
    /// A limiter with this quota for every key.
    pub fn new(quota: FailureQuota) -> Self {
        Self {
            quota,
            buckets: DefaultKeyedRateLimiter::hashmap(quota.quota()),
            blocked: Mutex::default(),
            failures: AtomicU32::new(0),
        }
    }

    /// The quota this limiter applies.
    pub fn quota(&self) -> FailureQuota {
        self.quota
    }

    /// How long `key` must still wait, if it used up its failures.
    pub fn wait(&self, key: &K) -> Option<Duration> {
        let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        let until = *blocked.get(key)?;
        let now = Instant::now();
        if until <= now {
            blocked.remove(key);
            return None;
        }
        Some(until - now)
    }

    /// Counts a failure of `key`. Returns how long it must now wait when this failure was one
    /// too many (the attempt itself should then be answered as throttled).
    pub fn failed(&self, key: K) -> Option<Duration> {
        if self.failures.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.buckets.retain_recent();
        }
        let denied = self.buckets.check_key(&key).err()?;
        let wait = denied
            .wait_time_from(DefaultClock::default().now())
            .max(Duration::from_secs(1));
        let mut blocked = self.blocked.lock().unwrap_or_else(PoisonError::into_inner);
        if blocked.len() >= MAX_BLOCKED_KEYS {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
            if blocked.len() >= MAX_BLOCKED_KEYS {
                blocked.clear();
            }
        }
        blocked.insert(key, Instant::now() + wait);
        Some(wait)
    }
}

/// Seconds for a `Retry-After` header: the wait rounded up, at least one.
pub fn retry_after_seconds(wait: Duration) -> u64 {
    wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_past_the_burst_must_wait() {
        let limiter = FailureLimiter::new(FailureQuota::new(3, Duration::from_secs(60)));
        assert_eq!(limiter.wait(&"a"), None);
        assert_eq!(limiter.failed("a"), None);
        assert_eq!(limiter.failed("a"), None);
        assert_eq!(limiter.failed("a"), None);
        let wait = limiter.failed("a");
        assert!(
            wait.is_some_and(|w| w > Duration::from_secs(50)),
            "{wait:?}"
        );
        assert!(limiter.wait(&"a").is_some());
        assert_eq!(limiter.wait(&"b"), None, "another key is not affected");
        assert_eq!(limiter.failed("b"), None);
    }

    #[test]
    fn a_wait_ends() {
        let limiter = FailureLimiter::new(FailureQuota::new(1, Duration::from_millis(20)));
        assert_eq!(limiter.failed(1), None);
        assert!(limiter.failed(1).is_some());
        // The reported wait is at least a second (Retry-After has whole seconds), but the
        // bucket itself refills after 20 ms.
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(limiter.failed(1), None);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_seconds(Duration::from_millis(2001)), 3);
    }
}
