//! Direct SQL for what is set up or checked outside the measured requests: the member users
//! of phase E (created in one statement, with ids pgbench can compute), pgbench's own groups,
//! counts, clean-up between levels, and facts for the report (version, plans).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Uuid as SqlUuid};
use tenancy::PgConnection;
use uuid::Uuid;

/// One text column.
#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    t: String,
}

/// One bigint column.
#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A connection to the benchmark database.
pub fn connect(url: &str) -> anyhow::Result<PgConnection> {
    Ok(PgConnection::establish(url)?)
}

/// The userName of the `g`th member user (1-based). Its id is `md5('member-' || g)::uuid`.
pub fn member_name(g: usize) -> String {
    format!("member-{g}@example.com")
}

/// Creates `count` member users (`member-1@example.com`, ...) the way a SCIM create stores
/// them (same columns, same kind of document), in one statement.
pub fn seed_members(conn: &mut PgConnection, tenant: Uuid, count: usize) -> anyhow::Result<()> {
    diesel::sql_query(
        "INSERT INTO users (tenant_id, id, user_name, external_id, active, display_name, given_name, \
           family_name, email, source, attributes) \
         SELECT $1, md5('member-' || g)::uuid, 'member-' || g || '@example.com', 'ext-member-' || g, \
           true, 'Member ' || g, 'Member', 'No' || g, 'member-' || g || '@example.com', 'scim', \
           jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'), \
             'userName', 'member-' || g || '@example.com', \
             'name', jsonb_build_object('givenName', 'Member', 'familyName', 'No' || g), \
             'emails', jsonb_build_array(jsonb_build_object('primary', true, \
               'value', 'member-' || g || '@example.com', 'type', 'work')), \
             'displayName', 'Member ' || g, 'locale', 'en-US', 'externalId', 'ext-member-' || g, \
             'active', true) \
         FROM generate_series(1, $2) AS g",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<BigInt, _>(i64::try_from(count)?)
    .execute(conn)?;
    Ok(())
}

/// The ids of members `1..=count`, in order.
pub fn member_ids(conn: &mut PgConnection, count: usize) -> anyhow::Result<Vec<String>> {
    let rows: Vec<TextRow> = diesel::sql_query(
        "SELECT md5('member-' || g)::uuid::text AS t FROM generate_series(1, $1) AS g ORDER BY g",
    )
    .bind::<BigInt, _>(i64::try_from(count)?)
    .load(conn)?;
    Ok(rows.into_iter().map(|r| r.t).collect())
}

/// Users in the tenant.
pub fn count_users(conn: &mut PgConnection, tenant: Uuid) -> anyhow::Result<usize> {
    let row: CountRow = diesel::sql_query("SELECT count(*) AS n FROM users WHERE tenant_id = $1")
        .bind::<SqlUuid, _>(tenant)
        .get_result(conn)?;
    Ok(usize::try_from(row.n)?)
}

/// Members of a group.
pub fn count_members(conn: &mut PgConnection, tenant: Uuid, group: Uuid) -> anyhow::Result<usize> {
    let row: CountRow = diesel::sql_query(
        "SELECT count(*) AS n FROM group_members WHERE tenant_id = $1 AND group_id = $2",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(group)
    .get_result(conn)?;
    Ok(usize::try_from(row.n)?)
}

/// A group for pgbench's own member inserts.
pub fn create_group(conn: &mut PgConnection, tenant: Uuid, name: &str) -> anyhow::Result<Uuid> {
    let id = Uuid::new_v4();
    diesel::sql_query(
        "INSERT INTO groups (tenant_id, id, display_name, attributes) VALUES ($1, $2, $3, \
         jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:Group'), \
         'displayName', $3::text))",
    )
    .bind::<SqlUuid, _>(tenant)
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(name)
    .execute(conn)?;
    Ok(id)
}

/// Removes what a level added besides its users: every group (with its memberships) and the
/// rows pgbench inserted, then vacuums, so that each level starts from the same kind of table.
pub fn reset_between_levels(conn: &mut PgConnection, tenant: Uuid) -> anyhow::Result<()> {
    diesel::sql_query("DELETE FROM groups WHERE tenant_id = $1")
        .bind::<SqlUuid, _>(tenant)
        .execute(conn)?;
    diesel::sql_query("DELETE FROM users WHERE tenant_id = $1 AND user_name LIKE 'pgb-%'")
        .bind::<SqlUuid, _>(tenant)
        .execute(conn)?;
    diesel::sql_query("VACUUM (ANALYZE) users, groups, group_members, provisioning_events")
        .execute(conn)?;
    Ok(())
}

/// `ANALYZE` of the directory tables.
pub fn analyze(conn: &mut PgConnection) -> anyhow::Result<()> {
    diesel::sql_query("ANALYZE users, groups, group_members, provisioning_events").execute(conn)?;
    Ok(())
}

/// The id of the tenant's token (the server-equivalent scripts record events with it).
pub fn token_id(conn: &mut PgConnection, tenant: Uuid) -> anyhow::Result<String> {
    let row: TextRow = diesel::sql_query(
        "SELECT id::text AS t FROM scim_tokens WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind::<SqlUuid, _>(tenant)
    .get_result(conn)?;
    Ok(row.t)
}

/// `SELECT version()`.
pub fn server_version(conn: &mut PgConnection) -> anyhow::Result<String> {
    let row: TextRow = diesel::sql_query("SELECT version() AS t").get_result(conn)?;
    Ok(row.t)
}

/// `EXPLAIN (ANALYZE, BUFFERS)` of a statement whose only parameter is the tenant (`$1`).
pub fn explain(conn: &mut PgConnection, tenant: Uuid, sql: &str) -> anyhow::Result<String> {
    // EXPLAIN cannot take parameters through the extended protocol: inline the tenant.
    let sql = sql.replace("$1", &format!("'{tenant}'::uuid"));
    #[derive(QueryableByName)]
    struct PlanRow {
        #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
        line: String,
    }
    let lines: Vec<PlanRow> =
        diesel::sql_query(format!("EXPLAIN (ANALYZE, BUFFERS) {sql}")).load(conn)?;
    Ok(lines
        .into_iter()
        .map(|l| l.line)
        .collect::<Vec<_>>()
        .join("\n"))
}
