//! The check that the schema stays distributable by tenant (Citus, see docs/SCALING.md): it
//! applies every migration to a real PostgreSQL and reads the catalog, and it reads the code
//! for statements that cross tenants. It fails when
//! - a tenant-owned table lacks `tenant_id` in its primary key, in a unique index, or in a
//!   foreign key to another tenant-owned table (none of them could be enforced on one shard);
//! - a table has a trigger (it would fire on the worker holding the row: no notification of
//!   it reaches the coordinator's listeners, and a write to another table is a cross-shard
//!   write);
//! - a table without `tenant_id` is not a declared reference table, or a reference table has a
//!   foreign key to a tenant-owned table;
//! - a cross-tenant unit of work (`Db::run_across_tenants`) gives a reason that
//!   docs/SCALING.md does not list.

use std::collections::BTreeSet;

use diesel::RunQueryDsl as _;
use diesel::sql_types::{Bool, Text};
use tenancy::Error;
use testkit::TestDb;

/// Tables copied to every node rather than distributed: small, read by every tenant's work.
const REFERENCE_TABLES: &[&str] = &["tenants", "admin_emails", "event_rollup"];
/// Tables of the migration harness, not of Insights.
const HARNESS_TABLES: &[&str] = &["__diesel_schema_migrations"];

#[derive(diesel::QueryableByName, Debug)]
struct Table {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Bool)]
    has_tenant_id: bool,
}

#[derive(diesel::QueryableByName, Debug)]
struct Finding {
    #[diesel(sql_type = Text)]
    what: String,
}

fn findings(conn: &mut diesel::PgConnection, sql: &str) -> Result<Vec<String>, Error> {
    Ok(diesel::sql_query(sql)
        .load::<Finding>(conn)?
        .into_iter()
        .map(|f| f.what)
        .collect())
}

#[test]
fn every_tenant_owned_table_is_distributable_by_tenant_id() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT c.relname::text AS name, EXISTS (SELECT 1 FROM pg_attribute a \
           WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped) AS has_tenant_id \
         FROM pg_class c WHERE c.relkind IN ('r', 'p') AND c.relnamespace = 'public'::regnamespace \
         ORDER BY 1",
    )
    .load(&mut conn)?;
    let mut problems = Vec::new();
    for table in &tables {
        let name = table.name.as_str();
        let reference = REFERENCE_TABLES.contains(&name);
        if !table.has_tenant_id && !reference && !HARNESS_TABLES.contains(&name) {
            problems.push(format!(
                "{name} has no tenant_id and is not a declared reference table"
            ));
        }
    }
    let distributed: Vec<&str> = tables
        .iter()
        .filter(|t| t.has_tenant_id && !REFERENCE_TABLES.contains(&t.name.as_str()))
        .map(|t| t.name.as_str())
        .collect();
    let list = distributed
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let references = REFERENCE_TABLES
        .iter()
        .map(|name| format!("'{name}'"))
        .collect::<Vec<_>>()
        .join(", ");

    // A primary key, with tenant_id in it.
    problems.extend(findings(
        &mut conn,
        &format!(
            "SELECT c.relname || ' has no primary key with tenant_id' AS what FROM pg_class c \
             WHERE c.relnamespace = 'public'::regnamespace AND c.relname IN ({list}) \
             AND NOT EXISTS (SELECT 1 FROM pg_constraint k JOIN pg_attribute a \
               ON a.attrelid = k.conrelid AND a.attnum = ANY (k.conkey) \
               WHERE k.conrelid = c.oid AND k.contype = 'p' AND a.attname = 'tenant_id')"
        ),
    )?);
    // Every unique index (constraint or not, partial or not) with tenant_id as a column.
    problems.extend(findings(
        &mut conn,
        &format!(
            "SELECT c.relname || ': unique index ' || i.relname || ' lacks tenant_id' AS what \
             FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
             WHERE x.indisunique AND c.relnamespace = 'public'::regnamespace AND c.relname IN ({list}) \
             AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid \
               AND a.attnum = ANY (x.indkey::int2[]) AND a.attname = 'tenant_id')"
        ),
    )?);
    // Every foreign key between tenant-owned tables matches tenant_id to tenant_id.
    problems.extend(findings(
        &mut conn,
        &format!(
            "SELECT c.relname || ': foreign key ' || k.conname || ' to ' || r.relname || ' does not include tenant_id on both sides' AS what \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid \
             WHERE k.contype = 'f' AND c.relname IN ({list}) AND r.relname IN ({list}) \
             AND NOT EXISTS (SELECT 1 FROM unnest(k.conkey, k.confkey) AS pair(mine, theirs) \
               JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = pair.mine \
               JOIN pg_attribute b ON b.attrelid = k.confrelid AND b.attnum = pair.theirs \
               WHERE a.attname = 'tenant_id' AND b.attname = 'tenant_id')"
        ),
    )?);
    // A reference table refers to no tenant-owned table (Citus cannot enforce that).
    problems.extend(findings(
        &mut conn,
        &format!(
            "SELECT c.relname || ': foreign key ' || k.conname || ' to the tenant-owned ' || r.relname AS what \
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class r ON r.oid = k.confrelid \
             WHERE k.contype = 'f' AND c.relname IN ({references}) AND r.relname IN ({list})"
        ),
    )?);
    // No triggers (constraint triggers of foreign keys are internal and allowed).
    problems.extend(findings(
        &mut conn,
        "SELECT c.relname || ': trigger ' || t.tgname AS what FROM pg_trigger t \
         JOIN pg_class c ON c.oid = t.tgrelid \
         WHERE NOT t.tgisinternal AND c.relnamespace = 'public'::regnamespace",
    )?);

    assert!(
        problems.is_empty(),
        "the schema is not distributable by tenant:\n{}",
        problems.join("\n")
    );
    assert!(
        distributed.contains(&"users") && distributed.contains(&"provisioning_events"),
        "the check read the real schema: {distributed:?}"
    );
    Ok(())
}

/// Reads every `.rs` file under `dir`.
fn sources(dir: &std::path::Path, out: &mut Vec<(std::path::PathBuf, String)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && let Ok(text) = std::fs::read_to_string(&path)
        {
            out.push((path, text));
        }
    }
}

#[test]
fn every_cross_tenant_reason_in_the_code_is_documented_in_scaling() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scaling = std::fs::read_to_string(root.join("docs/SCALING.md")).unwrap_or_default();
    let mut files = Vec::new();
    for krate in ["console", "scim-api", "server", "tenancy"] {
        sources(&root.join("crates").join(krate).join("src"), &mut files);
    }
    let mut reasons = BTreeSet::new();
    let mut unmarked = Vec::new();
    for (path, text) in &files {
        for (at, _) in text.match_indices(".run_across_tenants(") {
            let call = &text[at..text.len().min(at + 200)];
            match call.split("CrossTenant::").nth(1) {
                Some(rest) => {
                    let reason: String = rest
                        .chars()
                        .take_while(char::is_ascii_alphanumeric)
                        .collect();
                    reasons.insert(reason);
                }
                None => unmarked.push(path.display().to_string()),
            }
        }
    }
    assert!(
        unmarked.is_empty(),
        "cross-tenant work without a CrossTenant reason in: {unmarked:?}"
    );
    assert!(
        reasons.len() >= 4,
        "the scan found the cross-tenant paths: {reasons:?}"
    );
    let undocumented: Vec<_> = reasons
        .iter()
        .filter(|reason| !scaling.contains(&format!("`CrossTenant::{reason}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/SCALING.md does not list these cross-tenant paths: {undocumented:?}"
    );
}
