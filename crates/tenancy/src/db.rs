//! The connection pool and `Db::run`, the one way database work leaves the async threads.

use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::{ConnectionManager, Pool};
use diesel::{Connection as _, PgConnection};
use tracing::Instrument as _;

use crate::error::{Error, Result};

/// How long a request waits for a free connection before it is told the service is unavailable.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// A pool of PostgreSQL connections shared by every request.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<PgConnection>>,
    /// Kept for connections that must not come from the pool (a `LISTEN` session).
    database_url: Arc<str>,
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
        Self {
            pool,
            database_url: database_url.into(),
        }
    }

    /// Opens a connection of its own, outside the pool, for work that holds a session for
    /// long (listening for notifications). Blocking: call it from a thread of its own.
    pub fn connect_dedicated(&self) -> Result<PgConnection> {
        Ok(PgConnection::establish(&self.database_url)?)
    }

    /// Runs one unit of database work on the blocking pool, with a pooled connection that is
    /// returned before this future completes. The caller's tracing span is re-entered inside.
    ///
    /// The work may fail with any error that a storage [`Error`] converts into, so that callers
    /// can mix their own rules with repository calls in one closure.
    pub async fn run<T, E, F>(&self, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let mut conn = pool.get().map_err(|e| E::from(Error::from(e)))?;
            work(&mut conn)
        })
        .in_current_span()
        .await
        .map_err(|_| E::from(Error::Task))?
    }

    /// Whether the database answers a trivial query right now (for `/readyz`).
    pub async fn ping(&self) -> bool {
        use diesel::RunQueryDsl as _;
        self.run(|conn| -> Result<()> {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
        .is_ok()
    }
}

/// Runs `work` in one database transaction: committed if it returns `Ok`, rolled back
/// otherwise. The work's error type is the caller's, as with [`Db::run`].
pub fn transaction<T, E, F>(conn: &mut PgConnection, work: F) -> std::result::Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> std::result::Result<T, E>,
    E: From<Error>,
{
    use diesel::Connection as _;

    /// Keeps the caller's error apart from diesel's while inside `Connection::transaction`.
    enum Failure<E> {
        Db(diesel::result::Error),
        Work(E),
    }
    impl<E> From<diesel::result::Error> for Failure<E> {
        fn from(error: diesel::result::Error) -> Self {
            Failure::Db(error)
        }
    }
    conn.transaction(|conn| work(conn).map_err(Failure::Work))
        .map_err(|failure| match failure {
            Failure::Db(error) => E::from(Error::from(error)),
            Failure::Work(error) => error,
        })
}
