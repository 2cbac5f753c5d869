//! The streaming replica that reads which tolerate lag may use (`INSIGHTS_READ_DATABASE_URL`),
//! and what happens when it is down: the read goes to the primary, the replica is left alone
//! for [`SKIP_FOR`], and the outage is logged once, not once per request.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::r2d2::{Pool, PooledConnection};

use super::connection::{Manager, Scope};
use super::{DbLimits, scoped_connection};

/// How long a request waits for a replica connection before it reads from the primary.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long an unreachable replica is skipped before it is tried again.
pub(crate) const SKIP_FOR: Duration = Duration::from_secs(10);

/// A pool on the replica, and since when it is skipped.
pub(crate) struct Replica {
    pool: Pool<Manager>,
    limits: DbLimits,
    /// When the replica failed last and whether that was already logged; `None` while it works.
    down_since: Mutex<Option<Instant>>,
}

impl Replica {
    pub(crate) fn new(url: &str, limits: DbLimits) -> Self {
        let pool = Pool::builder()
            .max_size(limits.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(CONNECT_TIMEOUT)
            // A replica may go away between two reads (a failover, a restart): every
            // connection is checked before use (one round trip), so that a dead one is
            // replaced or the read goes to the primary, instead of failing the page.
            .test_on_check_out(true)
            // Its outage is logged once below, not once per connection attempt.
            .error_handler(Box::new(diesel::r2d2::NopErrorHandler))
            .build_unchecked(Manager::new(url, &limits));
        Self {
            pool,
            limits,
            down_since: Mutex::new(None),
        }
    }

    /// Whether to try the replica now: it works, or it has been skipped for long enough.
    pub(crate) fn usable(&self) -> bool {
        let down_since = self
            .down_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        down_since.is_none_or(|since| since.elapsed() >= SKIP_FOR)
    }

    /// A replica connection in `scope`, or `None` (logged, and the replica skipped for a while)
    /// when none can be had: the caller then reads from the primary.
    pub(crate) fn connection(&self, scope: Scope) -> Option<PooledConnection<Manager>> {
        let outcome = scoped_connection(&self.pool, scope, self.limits.pooler);
        let mut down_since = self
            .down_since
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match outcome {
            Ok(conn) => {
                if down_since.take().is_some() {
                    tracing::info!("the read replica answers again; lag-tolerant reads use it");
                }
                Some(conn)
            }
            Err(error) => {
                if down_since.is_none() {
                    tracing::warn!(%error, skip_secs = SKIP_FOR.as_secs(), "the read replica cannot be reached; reading from the primary");
                }
                *down_since = Some(Instant::now());
                None
            }
        }
    }
}
