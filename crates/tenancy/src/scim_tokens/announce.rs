//! Announcing a change that can end a tenant's tokens early, so that every server's listener
//! forgets what it remembered of them (see `cache`). Called by every write that does so — a
//! revocation, a retirement, the SCIM switch, the sign-in type, a tenant's deletion — in the
//! same unit of work, after the change: PostgreSQL delivers a notification when its transaction
//! commits (at once, outside one), never before. The application sends it, not a trigger: on
//! Citus a trigger runs on the worker that holds the row, and a notification there would never
//! reach listeners on the coordinator. Should one be missed anyway, no remembered verification
//! outlives the re-check bound.

use diesel::RunQueryDsl as _;
use diesel::sql_types::Text;

use super::cache::CHANNEL;
use crate::error::Result;
use crate::ids::TenantId;
use crate::prepared::Prepared;

/// Tells every server to forget what it remembers of `tenant`'s tokens once this unit of work
/// commits.
pub fn announce(conn: &mut diesel::PgConnection, tenant: TenantId) -> Result<()> {
    Prepared(
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(tenant.to_string()),
    )
    .execute(conn)?;
    Ok(())
}
