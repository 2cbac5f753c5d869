//! The pool's connections and the scope each is in. A connection remembers whether it is
//! working for one tenant (as the role `insights_tenant`, with `insights.tenant_id` set) or
//! across tenants (as the role the server signed in with), so that without a pooler in front
//! the scope is set only when it changes: a tenant's requests in a row cost no extra round trip.
//! Behind a transaction-mode pooler no session state may be relied on: every unit of work is a
//! transaction that sets its scope and its timeouts with `SET LOCAL`, and statements are sent
//! unnamed (parse, bind and execute in one message), never as named prepared statements that
//! another client's transaction would not find (see [`Pooler`]).

use std::sync::Arc;

use diesel::connection::{CacheSize, SimpleConnection as _};
use diesel::r2d2::{ConnectionManager, ManageConnection};
use diesel::{Connection as _, PgConnection};

use super::{DbLimits, TENANT_ROLE};
use crate::error::{Error, Result};
use crate::ids::TenantId;

/// What stands between the server and PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pooler {
    /// Nothing, or a session-mode pooler: a connection is the same server session throughout.
    #[default]
    None,
    /// A transaction-mode pooler (PgBouncer `pool_mode = transaction`): consecutive
    /// transactions may run on different server sessions.
    Transaction,
}

/// Whose rows a unit of work may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    /// One tenant's, under row-level security.
    Tenant(TenantId),
    /// Every tenant's (a named cross-tenant path).
    AllTenants,
}

impl Scope {
    /// The session settings of this scope (for a connection without a transaction pooler).
    fn session_sql(self) -> String {
        match self {
            // A tenant id is a UUID: its text cannot break out of the literal.
            Scope::Tenant(tenant) => {
                format!("SET ROLE {TENANT_ROLE}; SET insights.tenant_id = '{tenant}'")
            }
            Scope::AllTenants => "RESET ROLE; RESET insights.tenant_id".to_owned(),
        }
    }

    /// The start of a transaction in this scope with these `SET LOCAL` timeouts (behind a
    /// transaction pooler).
    fn begin_sql(self, local_timeouts: &str) -> String {
        match self {
            Scope::Tenant(tenant) => format!(
                "BEGIN; {local_timeouts}; SET LOCAL ROLE {TENANT_ROLE}; \
                 SET LOCAL insights.tenant_id = '{tenant}'"
            ),
            Scope::AllTenants => format!("BEGIN; {local_timeouts}"),
        }
    }
}

/// The timeouts of every unit of work, as `SET` or `SET LOCAL` statements. A transaction left
/// open by a stuck thread must not hold its locks for long.
fn timeouts_sql(limits: &DbLimits, set: &str) -> String {
    format!(
        "{set} statement_timeout = {}; {set} lock_timeout = {}; \
         {set} idle_in_transaction_session_timeout = {}",
        limits.statement_timeout.as_millis().max(1),
        limits.lock_timeout.as_millis().max(1),
        (limits.statement_timeout * 2).as_millis().max(1),
    )
}

/// A connection of the pool, with the scope its session is in.
pub(crate) struct ScopedConnection {
    pub(crate) pg: PgConnection,
    /// The session's scope; `None` until one is set, and after an error that may have left it
    /// unknown.
    scope: Option<Scope>,
    broken: bool,
    /// `SET LOCAL` of the timeouts, for the transactions begun behind a transaction pooler.
    local_timeouts: Arc<str>,
}

impl ScopedConnection {
    /// Begins the unit of work's transaction in `scope`, with its timeouts (behind a
    /// transaction pooler, where nothing else may be assumed of the server session).
    pub(crate) fn begin(&mut self, scope: Scope) -> Result<()> {
        use diesel::connection::AnsiTransactionManager;
        let sql = scope.begin_sql(&self.local_timeouts);
        AnsiTransactionManager::begin_transaction_sql(&mut self.pg, &sql).map_err(|error| {
            self.broken = true;
            Error::from(error)
        })
    }

    /// Puts the session into `scope` unless it is there already.
    pub(crate) fn enter(&mut self, scope: Scope) -> Result<()> {
        if self.scope == Some(scope) {
            return Ok(());
        }
        self.scope = None;
        self.pg
            .batch_execute(&scope.session_sql())
            .map_err(|error| {
                self.broken = true;
                Error::from(error)
            })?;
        self.scope = Some(scope);
        Ok(())
    }

    /// After a unit of work failed: whether the connection still answers. A connection the
    /// database dropped (a restart) would otherwise go back to the pool and fail again.
    pub(crate) fn check_after_failure(&mut self) {
        if self.pg.batch_execute("SELECT 1").is_err() {
            self.broken = true;
        }
    }

    /// Makes the pool drop this connection instead of handing it out again.
    pub(crate) fn discard(&mut self) {
        self.broken = true;
    }
}

/// Opens connections with the pool's timeouts and tells the pool which are broken.
pub(crate) struct Manager {
    inner: ConnectionManager<PgConnection>,
    pooler: Pooler,
    /// The session's timeouts, set once per connection (no pooler).
    session_timeouts: String,
    /// The same as `SET LOCAL`, at the start of every transaction (transaction pooler).
    local_timeouts: Arc<str>,
}

impl Manager {
    pub(crate) fn new(database_url: &str, limits: &DbLimits) -> Self {
        Self {
            inner: ConnectionManager::new(database_url),
            pooler: limits.pooler,
            session_timeouts: timeouts_sql(limits, "SET"),
            local_timeouts: timeouts_sql(limits, "SET LOCAL").into(),
        }
    }
}

impl ManageConnection for Manager {
    type Connection = ScopedConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> std::result::Result<ScopedConnection, Self::Error> {
        let mut pg = self.inner.connect()?;
        match self.pooler {
            Pooler::None => pg
                .batch_execute(&self.session_timeouts)
                .map_err(diesel::r2d2::Error::QueryError)?,
            // A named prepared statement lives in one server session, which the next
            // transaction may not get: diesel then sends every statement unnamed, in one
            // message (`PQsendQueryParams`), which a pooler passes on whole.
            Pooler::Transaction => pg.set_prepared_statement_cache_size(CacheSize::Disabled),
        }
        Ok(ScopedConnection {
            pg,
            scope: None,
            broken: false,
            local_timeouts: self.local_timeouts.clone(),
        })
    }

    fn is_valid(&self, conn: &mut ScopedConnection) -> std::result::Result<(), Self::Error> {
        self.inner.is_valid(&mut conn.pg)
    }

    fn has_broken(&self, conn: &mut ScopedConnection) -> bool {
        conn.broken || self.inner.has_broken(&mut conn.pg)
    }
}

/// Opens a connection outside the pool (with no timeouts). Behind a transaction pooler it
/// sends no named prepared statements either.
pub(crate) fn establish(database_url: &str, pooler: Pooler) -> Result<PgConnection> {
    let mut pg = PgConnection::establish(database_url)?;
    if pooler == Pooler::Transaction {
        pg.set_prepared_statement_cache_size(CacheSize::Disabled);
    }
    Ok(pg)
}
