//! The connection pool and the two ways database work leaves the async threads: [`Db::run`] for
//! one tenant, under PostgreSQL row-level security, and [`Db::run_across_tenants`] for the few
//! named paths that must see several tenants.
//!
//! Tenant work runs as the role `insights_tenant` with `insights.tenant_id` set, so that the
//! policies of migration `row_level_security` let it see and write that tenant's rows and
//! nothing else, whatever a query forgets to filter. How the scope is set depends on what is in
//! front of PostgreSQL ([`Pooler`]): on a direct connection the session keeps its scope and is
//! switched only when another tenant's work gets it (usually no extra round trip); behind a
//! transaction-mode pooler every unit of work is one transaction that sets its scope with
//! `SET LOCAL`, so that nothing depends on the server session surviving between transactions.
//!
//! Besides the pool, a `Db` knows where the sessions that cannot go through a transaction
//! pooler go (the token listener's `LISTEN`, the migrations), and an optional streaming
//! replica for reads that tolerate lag ([`Db::run_read`], see `replica`).

mod connection;
mod replica;
mod row_security;

use std::sync::Arc;
use std::time::Duration;

use diesel::PgConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager as _};
use diesel::r2d2::{Pool, PooledConnection};
use tracing::Instrument as _;

pub use self::connection::Pooler;
use self::connection::{Manager, Scope, ScopedConnection, establish};
use self::replica::Replica;
pub use self::row_security::check_row_security;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::shares::TenantShares;

diesel::define_sql_function! {
    /// SQL `lower(text)`: how the case-insensitive keys (userName, e-mail, group name, an
    /// admin's address) are compared.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// How long a request waits for a free connection (or for its tenant's share of them) before it
/// is told the service is unavailable.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections tried when the first turns out to be dead (the database restarted since it was
/// opened): a lost connection is found when its scope is set, before any work, so trying
/// another is safe.
const SCOPE_ATTEMPTS: usize = 3;
/// The role tenant work runs as (created by the migrations; subject to row-level security).
pub const TENANT_ROLE: &str = "insights_tenant";

/// Why a unit of work may see more than one tenant. Each is a path the design names; nothing
/// else reaches tenant data without a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossTenant {
    /// The operator's command line: creating and listing tenants, the SCIM switch.
    Operator,
    /// Start-up: the demo tenant of an empty installation, resuming interrupted imports,
    /// encrypting settings still stored in clear.
    Startup,
    /// Finding the tenants an admin's e-mail belongs to, before anyone is signed in.
    SignIn,
    /// The activity log's writer, which stores the events of many tenants in one statement.
    ActivityLog,
    /// Announcing a token change to every server (no tenant data is read).
    TokenAnnouncements,
    /// Background maintenance across tenants.
    Maintenance,
    /// The notification worker: the tenants to watch and the queue of due deliveries.
    Notifications,
    /// A tenant and its shadow: starting shadow mode, the review, Go live and Discard.
    Shadow,
}

impl CrossTenant {
    fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Startup => "startup",
            Self::SignIn => "sign-in",
            Self::ActivityLog => "activity-log",
            Self::TokenAnnouncements => "token-announcements",
            Self::Maintenance => "maintenance",
            Self::Notifications => "notifications",
            Self::Shadow => "shadow",
        }
    }
}

/// Limits every unit of database work runs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DbLimits {
    /// Connections in the pool.
    pub pool_size: u32,
    /// Units of work one tenant may run at once while other tenants have work too; its other
    /// requests wait (at most the connection timeout). Alone, a tenant may use the whole pool.
    pub tenant_share: u32,
    /// `statement_timeout` of every statement.
    pub statement_timeout: Duration,
    /// `lock_timeout`: how long a statement waits for a row or table lock.
    pub lock_timeout: Duration,
    /// What is in front of PostgreSQL.
    pub pooler: Pooler,
}

impl DbLimits {
    /// The defaults for a pool of `pool_size` connections: a twelfth of them (at least two)
    /// for a tenant that is not alone, 15 s per statement, 5 s for a lock, no pooler.
    pub fn for_pool(pool_size: u32) -> Self {
        let pool_size = pool_size.max(1);
        Self {
            pool_size,
            tenant_share: (pool_size / 12).max(2).min(pool_size),
            statement_timeout: Duration::from_secs(15),
            lock_timeout: Duration::from_secs(5),
            pooler: Pooler::None,
        }
    }
}

/// A pool of PostgreSQL connections shared by every request.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    /// Kept for connections that must not come from the pool.
    database_url: Arc<str>,
    /// Where the token listener's `LISTEN` session goes when that is not `database_url`
    /// (which behind a transaction pooler cannot hold one).
    listen_url: Option<Arc<str>>,
    /// Where migrations run when that is not `database_url` (past the pooler).
    migration_url: Option<Arc<str>>,
    /// A streaming replica for reads that tolerate lag.
    replica: Option<Arc<Replica>>,
    shares: Arc<TenantShares>,
    pooler: Pooler,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold a password: show only the pool's state.
        f.debug_struct("Db")
            .field("state", &self.pool.state())
            .field("pooler", &self.pooler)
            .field("listens_apart", &self.listen_url.is_some())
            .field("replica", &self.replica.is_some())
            .finish()
    }
}

impl Db {
    /// Builds a pool of at most `max_size` connections with the default limits.
    pub fn new(database_url: &str, max_size: u32) -> Self {
        Self::with_limits(database_url, DbLimits::for_pool(max_size))
    }

    /// Builds a pool with these limits. No connection is opened yet, so a database that is down
    /// at start-up shows as "unavailable" rather than as a crash.
    pub fn with_limits(database_url: &str, limits: DbLimits) -> Self {
        let pool = Pool::builder()
            .max_size(limits.pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(CONNECTION_TIMEOUT)
            .test_on_check_out(false)
            .build_unchecked(Manager::new(database_url, &limits));
        Self {
            pool,
            database_url: database_url.into(),
            listen_url: None,
            migration_url: None,
            replica: None,
            shares: Arc::new(TenantShares::new(
                limits.tenant_share.max(1),
                limits.pool_size,
                CONNECTION_TIMEOUT,
            )),
            pooler: limits.pooler,
        }
    }

    /// Sends the token listener's `LISTEN` session to `url` (`INSIGHTS_LISTEN_DATABASE_URL`):
    /// behind a transaction pooler it must point past the pooler, to PostgreSQL itself.
    #[must_use]
    pub fn with_listen_url(mut self, url: Option<&str>) -> Self {
        self.listen_url = url.map(Into::into);
        self
    }

    /// Runs migrations on `url` (`INSIGHTS_MIGRATION_DATABASE_URL`) instead of the pool's URL.
    #[must_use]
    pub fn with_migration_url(mut self, url: Option<&str>) -> Self {
        self.migration_url = url.map(Into::into);
        self
    }

    /// Reads that tolerate lag ([`Db::run_read`]) go to the streaming replica at `url`
    /// (`INSIGHTS_READ_DATABASE_URL`), with the same limits as this pool.
    #[must_use]
    pub fn with_read_replica(mut self, url: Option<&str>, limits: DbLimits) -> Self {
        self.replica = url.map(|url| Arc::new(Replica::new(url, limits)));
        self
    }

    /// What is in front of PostgreSQL.
    pub fn pooler(&self) -> Pooler {
        self.pooler
    }

    /// Whether a `LISTEN` session can be held at all: on a URL of its own, or on the pool's URL
    /// when no transaction pooler is in front of it (such a pooler accepts `LISTEN` and hands
    /// the server session to someone else).
    pub fn can_listen(&self) -> bool {
        self.listen_url.is_some() || self.pooler == Pooler::None
    }

    /// Opens a connection of its own to the pool's URL (through the pooler, if any), as the
    /// announcements of token changes arrive: the listener checks with it that they reach it.
    pub fn connect_announcer(&self) -> Result<PgConnection> {
        establish(&self.database_url, self.pooler)
    }

    /// Opens the token listener's session, outside the pool, where [`Db::can_listen`] says.
    /// Blocking: call it from a thread of its own.
    pub fn connect_listener(&self) -> Result<PgConnection> {
        match &self.listen_url {
            Some(url) => establish(url, Pooler::None),
            None => establish(&self.database_url, self.pooler),
        }
    }

    /// Runs one unit of work for `tenant` on the blocking pool, as the role `insights_tenant`
    /// with the tenant set, so that row-level security lets it see and change that tenant's
    /// rows only. While other tenants have work, at most the tenant's share of it runs at once. The pooled connection
    /// is returned before this future completes, and the caller's tracing span is re-entered
    /// inside. Work that changes several rows together opens its transaction with
    /// [`transaction`] (behind a transaction pooler the whole unit is one transaction anyway).
    ///
    /// The work may fail with any error that a storage [`Error`] converts into, so that callers
    /// can mix their own rules with repository calls in one closure.
    pub async fn run<T, E, F>(&self, tenant: TenantId, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let _share = self.shares.acquire(tenant).await.map_err(E::from)?;
        self.blocking(Scope::Tenant(tenant), work).await
    }

    /// Runs one unit of work that may see every tenant, for one of the named reasons, as the
    /// role the server signed in with (which owns the tables).
    pub async fn run_across_tenants<T, E, F>(
        &self,
        why: CrossTenant,
        work: F,
    ) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        tracing::trace!(why = why.as_str(), "cross-tenant database work");
        self.blocking(Scope::AllTenants, work).await
    }

    /// Applies pending migrations on a connection of their own (on the migration URL when there
    /// is one), without the pool's timeouts (a migration may rewrite a large table), all in one
    /// transaction that holds the migration lock (see [`crate::migrations`]).
    pub async fn migrate(&self) -> Result<Vec<String>> {
        let (url, pooler) = match &self.migration_url {
            Some(url) => (url.clone(), Pooler::None),
            None => (self.database_url.clone(), self.pooler),
        };
        tokio::task::spawn_blocking(move || {
            let mut conn = establish(&url, pooler)?;
            crate::migrations::run_pending(&mut conn)
        })
        .await
        .map_err(|_| Error::Task)?
    }

    /// [`check_row_security`] for this pool, as tenant work would run: the server calls it at
    /// start-up and refuses to serve when the second wall is not in place.
    pub async fn check_row_security(&self) -> Result<std::result::Result<(), String>> {
        self.run(TenantId::new_random(), |conn| Ok(check_row_security(conn)))
            .await
    }

    /// Whether the database answers a trivial query right now (for `/readyz`).
    pub async fn ping(&self) -> bool {
        self.run_across_tenants(CrossTenant::Maintenance, |conn| -> Result<()> {
            use diesel::RunQueryDsl as _;
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
        .is_ok()
    }

    /// [`Db::run`] for a read that tolerates the lag of a streaming replica (lists, the
    /// activity log, exports): on the replica when there is one and it answers, else on this
    /// pool. A replica that cannot be reached is skipped for a while (and that is logged), so
    /// that its outage costs the console nothing but freshness.
    pub async fn run_read<T, E, F>(&self, tenant: TenantId, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let _share = self.shares.acquire(tenant).await.map_err(E::from)?;
        let replica = self.replica.clone().filter(|replica| replica.usable());
        self.blocking_on(Scope::Tenant(tenant), replica, work).await
    }

    async fn blocking<T, E, F>(&self, scope: Scope, work: F) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        self.blocking_on(scope, None, work).await
    }

    /// Runs `work` on the blocking pool: on a connection of `replica` when one is given and can
    /// be had, else of this pool.
    async fn blocking_on<T, E, F>(
        &self,
        scope: Scope,
        replica: Option<Arc<Replica>>,
        work: F,
    ) -> std::result::Result<T, E>
    where
        F: FnOnce(&mut PgConnection) -> std::result::Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let pool = self.pool.clone();
        let pooler = self.pooler;
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            let replica_conn = replica.and_then(|replica| replica.connection(scope));
            let mut conn = match replica_conn {
                Some(conn) => conn,
                None => scoped_connection(&pool, scope, pooler).map_err(E::from)?,
            };
            let outcome = match pooler {
                Pooler::None => work(&mut conn.pg),
                Pooler::Transaction => in_transaction(&mut conn, work),
            };
            if outcome.is_err() {
                conn.check_after_failure();
            }
            outcome
        })
        .in_current_span()
        .await
        .map_err(|_| E::from(Error::Task))?
    }
}

/// A pooled connection in `scope`: its session switched to it (no pooler), or a transaction
/// begun in it (transaction pooler). A connection that died while idle in the pool (a database
/// restart) fails right there; it is discarded and another one tried.
pub(crate) fn scoped_connection(
    pool: &Pool<Manager>,
    scope: Scope,
    pooler: Pooler,
) -> Result<PooledConnection<Manager>> {
    let mut last = Error::Unavailable;
    for _ in 0..SCOPE_ATTEMPTS {
        let mut conn = pool.get()?;
        let entered = match pooler {
            Pooler::None => conn.enter(scope),
            Pooler::Transaction => conn.begin(scope),
        };
        match entered {
            Ok(()) => return Ok(conn),
            Err(error @ Error::Unavailable) => last = error,
            Err(error) => return Err(error),
        }
    }
    Err(last)
}

/// Runs `work` in the transaction just begun on `conn`, and commits or rolls back.
fn in_transaction<T, E, F>(conn: &mut ScopedConnection, work: F) -> std::result::Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> std::result::Result<T, E>,
    E: From<Error>,
{
    match work(&mut conn.pg) {
        Ok(value) => match AnsiTransactionManager::commit_transaction(&mut conn.pg) {
            Ok(()) => Ok(value),
            Err(error) => {
                conn.discard();
                Err(E::from(Error::from(error)))
            }
        },
        Err(error) => {
            if AnsiTransactionManager::rollback_transaction(&mut conn.pg).is_err() {
                conn.discard();
            }
            Err(error)
        }
    }
}

/// How often [`retrying`] tries work that loses a deadlock or serialisation conflict.
pub const CONTENDED_ATTEMPTS: usize = 3;

/// Runs `work` atomically like [`transaction`], and again (at most [`CONTENDED_ATTEMPTS`]
/// times) when the database aborted it to break a deadlock with concurrent work: inside an
/// enclosing transaction as a savepoint, which rolls back alone and releases its locks.
/// For units of work whose lock order cannot be made the same as their competitors' (a group's
/// PUT locks the group, then its members; a member PATCH the reverse).
pub fn retrying<T, E, F>(conn: &mut PgConnection, mut work: F) -> std::result::Result<T, E>
where
    F: FnMut(&mut PgConnection) -> std::result::Result<T, E>,
    E: From<Error> + IsContended,
{
    let mut attempt = 1;
    loop {
        // `Connection::transaction` opens a transaction, or a savepoint inside one.
        match diesel_transaction(conn, &mut work) {
            Err(error) if error.is_contended() && attempt < CONTENDED_ATTEMPTS => {
                tracing::debug!(attempt, "work lost a deadlock; trying again");
                attempt += 1;
            }
            other => return other,
        }
    }
}

/// Errors that can say "lost a deadlock, try again" (see [`retrying`]).
pub trait IsContended {
    /// Whether this error is [`Error::Contended`].
    fn is_contended(&self) -> bool;
}

impl IsContended for Error {
    fn is_contended(&self) -> bool {
        matches!(self, Error::Contended)
    }
}

/// Runs `work` atomically: inside the unit of work's transaction when there is one (behind a
/// transaction pooler every [`Db::run`] is one), else in a transaction of its own. Its error
/// type is the caller's.
pub fn transaction<T, E, F>(conn: &mut PgConnection, work: F) -> std::result::Result<T, E>
where
    F: FnOnce(&mut PgConnection) -> std::result::Result<T, E>,
    E: From<Error>,
{
    let in_transaction = matches!(
        AnsiTransactionManager::transaction_manager_status_mut(conn).transaction_depth(),
        Ok(Some(_))
    );
    if in_transaction {
        // The enclosing transaction commits or rolls back the work with everything else; a
        // savepoint would cost two more round trips for nothing.
        return work(conn);
    }
    diesel_transaction(conn, work)
}

/// `Connection::transaction` (a transaction, or a savepoint inside one) with the work's own
/// error type.
fn diesel_transaction<T, E, F>(conn: &mut PgConnection, work: F) -> std::result::Result<T, E>
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
