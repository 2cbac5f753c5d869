//! The connection pool and `Db::run`, the one way database work leaves the async threads.

use std::time::Duration;

use diesel::PgConnection;
use diesel::r2d2::{ConnectionManager, Pool};
use tracing::Instrument as _;

use crate::error::{Error, Result};

/// How long a request waits for a free connection before it is told the service is unavailable.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool of PostgreSQL connections shared by every request.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<PgConnection>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: show only the pool's state.
        f.debug_struct("Db")
            .field("state", &self.pool.state())
            .finish()
    }
}

impl Db {
    /// Builds a pool of at most `max_size` connections. No connection is opened yet, so a
    /// database that is down at start-up shows as "unavailable" rather than as a crash.
    pub fn new(database_url: &str, max_size: u32) -> Self {
        let manager = ConnectionManager::<PgConnection>::new(database_url);
        let pool = Pool::builder()
            .max_size(max_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(CONNECTION_TIMEOUT)
            .test_on_check_out(false)
            .build_unchecked(manager);
        Self { pool }
    }

    /// Runs one unit of database work on the blocking pool, with a pooled connection that is
    /// returned before this future completes. The caller's tracing span is re-entered inside.
    pub async fn run<T, F>(&self, work: F) -> Result<T>
    where
        F: FnOnce(&mut PgConnection) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get()?;
            work(&mut conn)
        })
        .in_current_span()
        .await
        .map_err(|_| Error::Task)?
    }

    /// Whether the database answers a trivial query right now (for `/readyz`).
    pub async fn ping(&self) -> bool {
        use diesel::RunQueryDsl as _;
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
        .is_ok()
    }
}
