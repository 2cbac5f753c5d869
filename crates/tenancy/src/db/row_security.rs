//! The start-up check that the second wall stands: tenant work really runs under row-level
//! security.

use diesel::PgConnection;

use super::TENANT_ROLE;

/// Checks that tenant work really runs under row-level security: the tenant role may be
/// assumed, has neither SUPERUSER nor BYPASSRLS, and every table with a `tenant_id` (and
/// `tenants` itself) has row-level security enabled. The server refuses to start otherwise.
pub fn check_row_security(conn: &mut PgConnection) -> std::result::Result<(), String> {
    use diesel::RunQueryDsl as _;
    use diesel::sql_types::{Bool, Text};

    #[derive(diesel::QueryableByName)]
    struct Role {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Bool)]
        bypasses: bool,
    }
    #[derive(diesel::QueryableByName)]
    struct Unprotected {
        #[diesel(sql_type = Text)]
        relname: String,
    }
    let role: Role = diesel::sql_query(
        "SELECT current_user::text AS name, (rolsuper OR rolbypassrls) AS bypasses \
         FROM pg_roles WHERE rolname = current_user",
    )
    .get_result(conn)
    .map_err(|e| format!("cannot read the role of tenant work: {e}"))?;
    if role.name != TENANT_ROLE || role.bypasses {
        return Err(format!(
            "tenant work runs as {:?}, which bypasses row-level security; it must run as {TENANT_ROLE} (created by the migrations) without SUPERUSER or BYPASSRLS",
            role.name
        ));
    }
    let unprotected: Vec<Unprotected> = diesel::sql_query(
        "SELECT c.relname::text AS relname FROM pg_class c \
         WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace \
         AND NOT c.relrowsecurity \
         AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a \
              WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))",
    )
    .load(conn)
    .map_err(|e| format!("cannot list the tables: {e}"))?;
    if !unprotected.is_empty() {
        let names: Vec<_> = unprotected.into_iter().map(|t| t.relname).collect();
        return Err(format!(
            "these tenant-owned tables have no row-level security: {}",
            names.join(", ")
        ));
    }
    Ok(())
}
