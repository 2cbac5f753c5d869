//! `INSIGHTS_READ_DATABASE_URL`: the console's lag-tolerant reads go there, everything else to
//! the primary, and a replica that cannot be reached costs nothing but freshness. The "replica"
//! here is a second real database holding different rows for the same tenant, so that a page
//! shows which database answered it; streaming replication itself is exercised by
//! `deploy/topology-test.sh`.

use std::time::{Duration, Instant};

use diesel::RunQueryDsl as _;
use serde_json::json;
use server::Settings;
use testkit::TestDb;

use crate::helpers::spawn_app_with;

/// Copies the tenant's row from the primary into the replica database (what streaming
/// replication would have done), and creates a user there only.
fn arrange_replica(primary: &TestDb, replica: &TestDb, tenant: tenancy::TenantId) {
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        row: serde_json::Value,
    }
    let row: Row = diesel::sql_query("SELECT to_jsonb(t) AS row FROM tenants t WHERE id = $1")
        .bind::<diesel::sql_types::Uuid, _>(tenant.as_uuid())
        .get_result(&mut primary.connect())
        .unwrap_or_else(|e| panic!("cannot read the tenant: {e}"));
    let mut conn = replica.connect();
    diesel::sql_query("INSERT INTO tenants SELECT * FROM jsonb_populate_record(NULL::tenants, $1)")
        .bind::<diesel::sql_types::Jsonb, _>(row.row)
        .execute(&mut conn)
        .unwrap_or_else(|e| panic!("cannot copy the tenant: {e}"));
    let fields = tenancy::directory::users::UserFields::from_document(json!({
        "userName": "only-on-the-replica@acme.example",
    }))
    .unwrap_or_else(|e| panic!("{e}"));
    tenancy::directory::users::insert(
        &mut conn,
        tenant,
        &fields,
        tenancy::stored::UserSource::Scim,
        chrono::Utc::now(),
    )
    .unwrap_or_else(|e| panic!("cannot insert the replica's user: {e}"));
}

#[tokio::test]
async fn lists_read_from_the_replica_pages_that_follow_writes_from_the_primary_and_an_outage_falls_back()
 {
    let primary = TestDb::new();
    let replica = TestDb::new();
    let mut settings = Settings::for_tests(primary.url());
    settings.read_database_url = Some(replica.url().to_owned());
    let app = spawn_app_with(settings, primary);
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let on_primary = app
        .insert_user(
            tenant,
            json!({"userName": "only-on-the-primary@acme.example"}),
            "scim",
        )
        .await;
    arrange_replica(&app._test_db, &replica, tenant);

    let list = admin.page("/console/users").await;
    assert!(
        list.contains("only-on-the-replica@acme.example"),
        "the list came from the replica: {list}"
    );
    assert!(!list.contains("only-on-the-primary@acme.example"));
    let activity = admin.get("/console/activity").await;
    assert_eq!(activity.status(), 200, "the activity log reads there too");
    // The user page shows what the admin just changed: from the primary.
    let detail = admin.page(&format!("/console/users/{on_primary}")).await;
    assert!(
        detail.contains("only-on-the-primary@acme.example"),
        "{detail}"
    );

    // The replica goes away: the same list answers, from the primary, without waiting long.
    drop(replica);
    let started = Instant::now();
    let list = admin.page("/console/users").await;
    assert!(
        list.contains("only-on-the-primary@acme.example"),
        "the primary answered: {list}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    // And it is skipped for a while: the next read does not try it again.
    let started = Instant::now();
    let groups = admin.get("/console/groups").await;
    assert_eq!(groups.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}
