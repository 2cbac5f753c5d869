//! The schema migrations, embedded in the binary, and how they are applied safely when several
//! replicas start at once, also through a connection pooler in transaction mode.

use diesel::{Connection as _, PgConnection, RunQueryDsl as _};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Error, Result};

/// Every migration under `migrations/`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The advisory lock key that serialises migration runs across processes ("insights").
const MIGRATION_LOCK_KEY: i64 = 0x696e_7369_6768_7473;

/// Applies pending migrations in one transaction that first takes a transaction-level advisory
/// lock, so that replicas starting together apply each migration exactly once (the others wait,
/// then find nothing pending), a failed migration leaves nothing half-applied, and no lock can
/// outlive its transaction — behind a transaction pooler a session lock would stay with a server
/// session the pooler hands to someone else. Returns the names of the migrations applied.
pub fn run_pending(conn: &mut PgConnection) -> Result<Vec<String>> {
    /// Keeps a failed migration's message apart from diesel's errors inside the transaction.
    enum Failure {
        Db(diesel::result::Error),
        Migration(String),
    }
    impl From<diesel::result::Error> for Failure {
        fn from(error: diesel::result::Error) -> Self {
            Failure::Db(error)
        }
    }
    conn.transaction(|conn| {
        diesel::sql_query(format!(
            "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
        ))
        .execute(conn)?;
        conn.run_pending_migrations(MIGRATIONS)
            .map(|versions| versions.iter().map(ToString::to_string).collect())
            .map_err(|e| Failure::Migration(e.to_string()))
    })
    .map_err(|failure| match failure {
        Failure::Db(error) => Error::from(error),
        Failure::Migration(message) => Error::Internal(format!("migration failed: {message}")),
    })
}
