//! The schema migrations, embedded in the binary, and how they are applied safely when several
//! replicas start at once.

use diesel::{PgConnection, RunQueryDsl as _};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::error::{Error, Result};

/// Every migration under `migrations/`, compiled in.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations");

/// The advisory lock key that serialises migration runs across processes ("insights").
const MIGRATION_LOCK_KEY: i64 = 0x696e_7369_6768_7473;

/// Applies pending migrations while holding a Postgres advisory lock, so that replicas starting
/// together apply each migration exactly once. Returns the names of the migrations applied.
pub fn run_pending(conn: &mut PgConnection) -> Result<Vec<String>> {
    diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})")).execute(conn)?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| Error::Internal(format!("migration failed: {e}")));
    // Unlock even when a migration failed, so another replica can report the same error.
    diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})")).execute(conn)?;
    applied
}
