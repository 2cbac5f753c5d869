//! Bounded growth: the maintenance deletes exactly what has outlived its retention (each
//! tenant's own or the operator's default), in batches, on one server at a time.

use chrono::{Duration, Utc};
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Uuid as SqlUuid};
use serde_json::json;
use tenancy::directory::users::{self, UserFields};
use tenancy::maintenance::{self, Purged, Retention};
use tenancy::sessions::{self, Principal};
use tenancy::stored::UserSource;
use tenancy::{Error, TenantId, sign_in};
use testkit::TestDb;

use crate::support::tenant;

/// Events and roll-ups `days` old for `tenant`, tagged with the age in the path.
fn aged(conn: &mut PgConnection, tenant: TenantId, days: &[i64]) -> Result<(), Error> {
    for &age in days {
        diesel::sql_query(
            "INSERT INTO provisioning_events (tenant_id, occurred_at, method, path, status, duration_us, operation) \
             VALUES ($1, now() - make_interval(days => $2::int), 'GET', '/Users?age=' || $2, 200, 1, 'lookup')",
        )
        .bind::<SqlUuid, _>(tenant.as_uuid())
        .bind::<BigInt, _>(age)
        .execute(conn)?;
        diesel::sql_query(
            "INSERT INTO event_hours (tenant_id, hour, requests, failures) \
             VALUES ($1, date_trunc('hour', now() - make_interval(days => $2::int)), 1, 0)",
        )
        .bind::<SqlUuid, _>(tenant.as_uuid())
        .bind::<BigInt, _>(age)
        .execute(conn)?;
    }
    Ok(())
}

#[derive(QueryableByName, Debug, PartialEq, Eq)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut PgConnection, sql: &str, tenant: TenantId) -> Result<i64, Error> {
    let found: Count = diesel::sql_query(sql)
        .bind::<SqlUuid, _>(tenant.as_uuid())
        .get_result(conn)?;
    Ok(found.n)
}

#[tokio::test]
async fn what_outlived_its_retention_is_removed_and_nothing_else() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let default_tenant = tenant(&mut conn, "Default")?;
    let short = tenant(&mut conn, "Short")?;
    conn.batch_execute(&format!(
        "UPDATE tenants SET event_retention_days = 7 WHERE id = '{short}'"
    ))?;
    aged(&mut conn, default_tenant, &[31, 40, 29, 1])?;
    aged(&mut conn, short, &[8, 6])?;

    // Imports: the report of one finished 40 days ago goes, its summary stays; a recent one stays.
    conn.batch_execute(&format!(
        "INSERT INTO import_jobs (tenant_id, id, kind, status, file_name, total_rows, processed_rows, \
           created_count, updated_count, error_count, created_at, finished_at) VALUES \
           ('{default_tenant}', '00000000-0000-4000-8000-000000000001', 'cards', 'done', 'old.csv', 3, 3, 3, 0, 0, now() - interval '41 days', now() - interval '40 days'), \
           ('{default_tenant}', '00000000-0000-4000-8000-000000000002', 'cards', 'done', 'new.csv', 2, 2, 2, 0, 0, now() - interval '2 days', now() - interval '1 day'); \
         INSERT INTO import_rows (tenant_id, job_id, line, fields, outcome) \
           SELECT '{default_tenant}', '00000000-0000-4000-8000-000000000001', g, '{{}}', 'created' FROM generate_series(2, 4) g; \
         INSERT INTO import_rows (tenant_id, job_id, line, fields, outcome) \
           SELECT '{default_tenant}', '00000000-0000-4000-8000-000000000002', g, '{{}}', 'created' FROM generate_series(2, 3) g;"
    ))?;

    // Sessions: one past its lifetime, one idle too long, one in use.
    let user = users::insert(
        &mut conn,
        default_tenant,
        &UserFields::from_document(json!({"userName": "ann@acme.example"}))?,
        UserSource::Scim,
        Utc::now(),
    )?;
    let now = Utc::now();
    let (_, expired) = sessions::create(
        &mut conn,
        default_tenant,
        Principal::User(user.id),
        now - Duration::hours(13),
    )?;
    let (_, idle) = sessions::create(
        &mut conn,
        default_tenant,
        Principal::User(user.id),
        now - Duration::hours(3),
    )?;
    let (_, live) = sessions::create(&mut conn, default_tenant, Principal::User(user.id), now)?;
    // Sign-ins started at the provider: one abandoned long ago, one under way.
    // (A new sign-in sweeps the tenant's abandoned ones: start the old one last.)
    sign_in::start(&mut conn, default_tenant, "new-state", "n", "v", false, now)?;
    sign_in::start(
        &mut conn,
        default_tenant,
        "old-state",
        "n",
        "v",
        true,
        now - Duration::days(1),
    )?;

    // Another server purging: this one skips.
    let mut other = test_db.connect();
    let skipped = other.transaction::<_, Error, _>(|other| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(5660504066)").execute(other)?;
        maintenance::retention::purge_batch(&mut conn, Utc::now(), Retention::default())
    })?;
    assert_eq!(skipped, None);

    // A batch of one row per kind: the purge takes several transactions and stops by itself.
    let retention = Retention {
        batch: 1,
        ..Retention::default()
    };
    let purged = maintenance::purge_expired(test_db.db(), retention).await?;
    assert_eq!(
        purged,
        Purged {
            events: 3,
            event_hours: 3,
            rejected: 0,
            import_rows: 3,
            sessions: 2,
            pending_logins: 1,
            deleted_users: 0,
            audit: 0,
        }
    );

    let ages = |conn: &mut PgConnection, tenant: TenantId| -> Result<Vec<String>, Error> {
        #[derive(QueryableByName)]
        struct Path {
            #[diesel(sql_type = diesel::sql_types::Text)]
            path: String,
        }
        let rows: Vec<Path> = diesel::sql_query(
            "SELECT path FROM provisioning_events WHERE tenant_id = $1 ORDER BY occurred_at",
        )
        .bind::<SqlUuid, _>(tenant.as_uuid())
        .load(conn)?;
        Ok(rows.into_iter().map(|r| r.path).collect())
    };
    assert_eq!(
        ages(&mut conn, default_tenant)?,
        ["/Users?age=29", "/Users?age=1"]
    );
    assert_eq!(ages(&mut conn, short)?, ["/Users?age=6"]);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM event_hours WHERE tenant_id = $1",
            default_tenant
        )?,
        2
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM event_hours WHERE tenant_id = $1",
            short
        )?,
        1
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM import_rows WHERE tenant_id = $1",
            default_tenant
        )?,
        2
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) AS n FROM import_jobs WHERE tenant_id = $1",
            default_tenant
        )?,
        2
    );
    let remaining: Vec<Vec<u8>> = tenancy::schema::sessions::table
        .select(tenancy::schema::sessions::token_hash)
        .load(&mut conn)?;
    assert_eq!(remaining, vec![live.token_hash.clone()]);
    assert!(!remaining.contains(&expired.token_hash) && !remaining.contains(&idle.token_hash));
    let states: Vec<String> = tenancy::schema::pending_oidc_logins::table
        .select(tenancy::schema::pending_oidc_logins::state)
        .load(&mut conn)?;
    assert_eq!(states, ["new-state"]);

    // Nothing left to do: the next pass removes nothing.
    assert!(
        maintenance::purge_expired(test_db.db(), retention)
            .await?
            .is_empty()
    );
    Ok(())
}

#[tokio::test]
async fn the_audit_log_is_kept_for_its_own_retention() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let acme = tenant(&mut conn, "Acme")?;
    let actor = tenancy::audit::Actor::operator();
    for days in [400, 200, 1] {
        tenancy::audit::record(
            &mut conn,
            acme,
            &actor,
            tenancy::stored::AuditAction::AdminAdded,
            Some(&format!("{days} days")),
            json!({}),
            Utc::now() - Duration::days(days),
        )?;
    }
    let retention = Retention::default().with_audit_days(365)?;
    let purged = maintenance::purge_expired(test_db.db(), retention).await?;
    assert_eq!(purged.audit, 1);
    let kept = tenancy::audit::list(&mut conn, acme, &Default::default(), 10)?;
    let targets: Vec<_> = kept.iter().filter_map(|r| r.target.clone()).collect();
    assert_eq!(targets, ["1 days", "200 days"]);
    assert!(Retention::default().with_audit_days(10).is_err());
    Ok(())
}
