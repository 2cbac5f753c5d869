//! The pool's connections and the scope each is in. A connection remembers whether it is
//! working for one tenant (as the role `insights_tenant`, with `insights.tenant_id` set) or
//! across tenants (as the role the server signed in with), so that without a pooler in front
//! the scope is set only when it changes: a tenant's requests in a row cost no extra round trip.
//! Behind a transaction-mode pooler no session setting may be relied on, and every unit of work
//! is a transaction that sets its scope with `SET LOCAL` (see [`Pooler`]).

use diesel::connection::SimpleConnection as _;
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

    /// The start of a transaction in this scope (behind a transaction pooler).
    pub(crate) fn begin_sql(self) -> String {
        match self {
            Scope::Tenant(tenant) => format!(
                "BEGIN; SET LOCAL ROLE {TENANT_ROLE}; SET LOCAL insights.tenant_id = '{tenant}'"
            ),
            Scope::AllTenants => "BEGIN".to_owned(),
        }
    }
}

/// A connection of the pool, with the scope its session is in.
pub(crate) struct ScopedConnection {
    pub(crate) pg: PgConnection,
    /// The session's scope; `None` until one is set, and after an error that may have left it
    /// unknown.
    scope: Option<Scope>,
    broken: bool,
}

impl ScopedConnection {
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
    setup_sql: String,
}

impl Manager {
    pub(crate) fn new(database_url: &str, limits: &DbLimits) -> Self {
        Self {
            inner: ConnectionManager::new(database_url),
            // A transaction left open by a stuck thread must not hold its locks for long.
            setup_sql: format!(
                "SET statement_timeout = {}; SET lock_timeout = {}; \
                 SET idle_in_transaction_session_timeout = {}",
                limits.statement_timeout.as_millis().max(1),
                limits.lock_timeout.as_millis().max(1),
                (limits.statement_timeout * 2).as_millis().max(1),
            ),
        }
    }
}

impl ManageConnection for Manager {
    type Connection = ScopedConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> std::result::Result<ScopedConnection, Self::Error> {
        let mut pg = self.inner.connect()?;
        // The timeouts of every connection, set once. (Behind a transaction pooler a session
        // setting may not reach every server session: set them on the role there, see the
        // README.)
        pg.batch_execute(&self.setup_sql)
            .map_err(diesel::r2d2::Error::QueryError)?;
        Ok(ScopedConnection {
            pg,
            scope: None,
            broken: false,
        })
    }

    fn is_valid(&self, conn: &mut ScopedConnection) -> std::result::Result<(), Self::Error> {
        self.inner.is_valid(&mut conn.pg)
    }

    fn has_broken(&self, conn: &mut ScopedConnection) -> bool {
        conn.broken || self.inner.has_broken(&mut conn.pg)
    }
}

/// Opens a connection outside the pool (with no timeouts).
pub(crate) fn establish(database_url: &str) -> Result<PgConnection> {
    Ok(PgConnection::establish(database_url)?)
}
