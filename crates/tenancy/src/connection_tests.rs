//! The console's connection tests: one row per tenant holding the test that runs or the last one
//! run (see the migration `connection_self_test`). Claiming the row is what lets one test run at
//! a time for a tenant, across replicas; a claim older than [`ABANDONED_AFTER`] was left by a
//! server that died and is taken over.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Timestamptz, Uuid};
use serde_json::Value;

use crate::error::Result;
use crate::ids::TenantId;
use crate::schema::connection_tests;

/// A running test older than this was abandoned.
pub const ABANDONED_AFTER: Duration = Duration::minutes(2);

/// A test as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = connection_tests, check_for_backend(diesel::pg::Pg))]
pub struct ConnectionTest {
    /// The tenant.
    pub tenant_id: TenantId,
    /// When it began.
    pub started_at: DateTime<Utc>,
    /// When it ended (`None` while it runs).
    pub finished_at: Option<DateTime<Utc>>,
    /// Whether every step passed.
    pub passed: Option<bool>,
    /// The steps, as the console shows them.
    pub steps: Value,
}

// Takes the row unless a test that is not abandoned holds it; `RETURNING` says who won.
const CLAIM: &str = "INSERT INTO connection_tests (tenant_id, started_at) VALUES ($1, $2) \
     ON CONFLICT (tenant_id) DO UPDATE SET started_at = EXCLUDED.started_at, finished_at = NULL, \
       passed = NULL, steps = '[]' \
     WHERE connection_tests.finished_at IS NOT NULL OR connection_tests.started_at < $3 \
     RETURNING tenant_id";

#[derive(QueryableByName)]
struct Claimed {
    #[diesel(sql_type = Uuid)]
    #[expect(dead_code, reason = "only its presence is read")]
    tenant_id: uuid::Uuid,
}

/// Claims the tenant's test at `now`: `false` when another one is running.
pub fn claim(conn: &mut PgConnection, tenant: TenantId, now: DateTime<Utc>) -> Result<bool> {
    let won: Vec<Claimed> = diesel::sql_query(CLAIM)
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Timestamptz, _>(now)
        .bind::<Timestamptz, _>(now - ABANDONED_AFTER)
        .load(conn)?;
    Ok(!won.is_empty())
}

/// Records the end of the tenant's test begun at `started_at`.
pub fn finish(
    conn: &mut PgConnection,
    tenant: TenantId,
    started_at: DateTime<Utc>,
    now: DateTime<Utc>,
    passed: bool,
    steps: Value,
) -> Result<()> {
    diesel::update(
        connection_tests::table
            .filter(connection_tests::tenant_id.eq(tenant))
            .filter(connection_tests::started_at.eq(started_at)),
    )
    .set((
        connection_tests::finished_at.eq(Some(now)),
        connection_tests::passed.eq(Some(passed)),
        connection_tests::steps.eq(steps),
    ))
    .execute(conn)?;
    Ok(())
}

/// The tenant's running or last test.
pub fn last(conn: &mut PgConnection, tenant: TenantId) -> Result<Option<ConnectionTest>> {
    Ok(connection_tests::table
        .find(tenant)
        .select(ConnectionTest::as_select())
        .first(conn)
        .optional()?)
}
