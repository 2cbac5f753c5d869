//! Row-level security, the second wall: tenant work that forgets its `tenant_id` filter still
//! sees and changes only its own tenant's rows.

use chrono::Utc;
use diesel::prelude::*;
use tenancy::directory::users::{self, UserFields, UserRow};
use tenancy::schema::{provisioning_events, tenants as tenants_table, users as users_table};
use tenancy::stored::UserSource;
use tenancy::tenants;
use tenancy::{CrossTenant, Error, TenantId};
use testkit::TestDb;

fn tenant(conn: &mut PgConnection, name: &str) -> TenantId {
    crate::support::tenant(conn, name).unwrap_or_else(|e| panic!("cannot create tenant: {e}"))
}

fn user(conn: &mut PgConnection, tenant: TenantId, user_name: &str) {
    let fields = UserFields::from_document(serde_json::json!({ "userName": user_name }))
        .and_then(|fields| users::insert(conn, tenant, &fields, UserSource::Scim, Utc::now()));
    if let Err(e) = fields {
        panic!("cannot insert user: {e}");
    }
}

/// Two tenants with two users each, arranged outside row-level security.
fn two_tenants(test_db: &TestDb) -> (TenantId, TenantId) {
    let mut conn = test_db.connect();
    let ours = tenant(&mut conn, "Ours");
    let theirs = tenant(&mut conn, "Theirs");
    for (tenant, prefix) in [(ours, "ours"), (theirs, "theirs")] {
        user(&mut conn, tenant, &format!("{prefix}-1@example.com"));
        user(&mut conn, tenant, &format!("{prefix}-2@example.com"));
    }
    (ours, theirs)
}

#[tokio::test]
async fn a_query_without_its_tenant_filter_sees_only_its_own_tenant() -> Result<(), Error> {
    let test_db = TestDb::new();
    let (ours, theirs) = two_tenants(&test_db);

    // The bug this wall is for: a repository function that forgot `tenant_id`.
    let seen: Vec<UserRow> = test_db
        .db()
        .run(ours, |conn| {
            Ok::<_, Error>(users_table::table.select(UserRow::as_select()).load(conn)?)
        })
        .await?;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|u| u.tenant_id == ours));

    let tenants_seen: Vec<TenantId> = test_db
        .db()
        .run(ours, |conn| {
            Ok::<_, Error>(tenants_table::table.select(tenants_table::id).load(conn)?)
        })
        .await?;
    assert_eq!(tenants_seen, [ours]);

    // Changes without the filter stay inside the tenant too.
    let changed = test_db
        .db()
        .run(ours, |conn| {
            Ok::<_, Error>(
                diesel::update(users_table::table)
                    .set(users_table::active.eq(false))
                    .execute(conn)?,
            )
        })
        .await?;
    assert_eq!(changed, 2);
    let deleted = test_db
        .db()
        .run(ours, |conn| {
            Ok::<_, Error>(diesel::delete(users_table::table).execute(conn)?)
        })
        .await?;
    assert_eq!(deleted, 2);

    let mut conn = test_db.connect();
    let theirs_left: Vec<bool> = users_table::table
        .filter(users_table::tenant_id.eq(theirs))
        .select(users_table::active)
        .load(&mut conn)?;
    assert_eq!(theirs_left, [true, true], "the other tenant is untouched");
    Ok(())
}

#[tokio::test]
async fn one_connection_serves_tenant_after_tenant_with_and_without_a_pooler() -> Result<(), Error>
{
    let test_db = TestDb::new();
    let (ours, theirs) = two_tenants(&test_db);
    for pooler in [tenancy::Pooler::None, tenancy::Pooler::Transaction] {
        let mut limits = tenancy::DbLimits::for_pool(1);
        limits.pooler = pooler;
        scopes_switch(
            &tenancy::Db::with_limits(test_db.url(), limits),
            ours,
            theirs,
        )
        .await?;
    }
    Ok(())
}

/// On a pool of one connection: each tenant's work sees its own rows, cross-tenant work sees
/// all, and nothing of a tenant's scope is left for cross-tenant work.
async fn scopes_switch(db: &tenancy::Db, ours: TenantId, theirs: TenantId) -> Result<(), Error> {
    for (tenant, expected) in [(ours, "ours"), (theirs, "theirs"), (ours, "ours")] {
        let names: Vec<String> = db
            .run(tenant, |conn| {
                Ok::<_, Error>(
                    users_table::table
                        .select(users_table::user_name)
                        .load(conn)?,
                )
            })
            .await?;
        assert_eq!(names.len(), 2);
        assert!(names.iter().all(|n| n.starts_with(expected)), "{names:?}");
    }
    // Nothing of a unit of work's scope is left in the session.
    let left: (String, String) = db
        .run_across_tenants(CrossTenant::Operator, |conn| {
            #[derive(diesel::QueryableByName)]
            struct Left {
                #[diesel(sql_type = diesel::sql_types::Text)]
                role: String,
                #[diesel(sql_type = diesel::sql_types::Text)]
                tenant: String,
            }
            let left: Left = diesel::sql_query(
                "SELECT current_user::text AS role, \
                 coalesce(current_setting('insights.tenant_id', true), '') AS tenant",
            )
            .get_result(conn)?;
            Ok::<_, Error>((left.role, left.tenant))
        })
        .await?;
    assert_ne!(left.0, "insights_tenant");
    assert_eq!(left.1, "");
    let all = db
        .run_across_tenants(CrossTenant::Operator, |conn| {
            Ok::<_, Error>(users_table::table.count().get_result::<i64>(conn)?)
        })
        .await?;
    assert_eq!(all, 4);
    assert_eq!(db.check_row_security().await?, Ok(()));
    Ok(())
}

#[tokio::test]
async fn a_write_into_another_tenant_is_refused() -> Result<(), Error> {
    let test_db = TestDb::new();
    let (ours, theirs) = two_tenants(&test_db);

    let planted = test_db
        .db()
        .run(ours, move |conn| {
            let fields = UserFields::from_document(serde_json::json!({ "userName": "planted" }))?;
            users::insert(conn, theirs, &fields, UserSource::Scim, Utc::now())
        })
        .await;
    assert!(matches!(planted, Err(Error::Db(_))), "{planted:?}");

    let event = test_db
        .db()
        .run(ours, move |conn| {
            Ok::<_, Error>(
                diesel::insert_into(provisioning_events::table)
                    .values((
                        provisioning_events::tenant_id.eq(theirs),
                        provisioning_events::method.eq("GET"),
                        provisioning_events::path.eq("/Users"),
                        provisioning_events::status.eq(200_i16),
                    ))
                    .execute(conn)?,
            )
        })
        .await;
    assert!(matches!(event, Err(Error::Db(_))), "{event:?}");

    let mut conn = test_db.connect();
    let count: i64 = users_table::table
        .filter(users_table::tenant_id.eq(theirs))
        .count()
        .get_result(&mut conn)?;
    assert_eq!(count, 2, "nothing was planted");
    Ok(())
}

#[tokio::test]
async fn cross_tenant_work_is_explicit_and_sees_everything() -> Result<(), Error> {
    let test_db = TestDb::new();
    two_tenants(&test_db);
    let all = test_db
        .db()
        .run_across_tenants(CrossTenant::Operator, tenants::list)
        .await?;
    assert_eq!(all.len(), 2);
    Ok(())
}

#[tokio::test]
async fn every_tenant_owned_table_is_behind_the_wall() -> Result<(), Error> {
    let test_db = TestDb::new();
    assert_eq!(test_db.db().check_row_security().await?, Ok(()));

    // Every table with a tenant_id has a policy for the tenant role and grants it access, so a
    // new table cannot be added without both.
    #[derive(diesel::QueryableByName, Debug)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        has_policy: bool,
        #[diesel(sql_type = diesel::sql_types::Bool)]
        readable: bool,
    }
    let mut conn = test_db.connect();
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT c.relname::text AS name, \
         EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid \
                 AND 'insights_tenant'::regrole = ANY (p.polroles)) AS has_policy, \
         has_table_privilege('insights_tenant', c.oid, 'SELECT') AS readable \
         FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace \
         AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a \
              WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)) \
         ORDER BY 1",
    )
    .load(&mut conn)?;
    assert!(tables.len() >= 12, "{tables:?}");
    let unguarded: Vec<&str> = tables
        .iter()
        .filter(|t| !t.has_policy || !t.readable)
        .map(|t| t.name.as_str())
        .collect();
    assert!(unguarded.is_empty(), "{unguarded:?}");

    // And a table without row-level security is found by the start-up check.
    diesel::sql_query("ALTER TABLE cards DISABLE ROW LEVEL SECURITY").execute(&mut conn)?;
    let check = test_db.db().check_row_security().await?;
    assert!(
        check.as_ref().is_err_and(|reason| reason.contains("cards")),
        "{check:?}"
    );
    Ok(())
}
