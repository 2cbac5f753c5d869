//! Replicas that start together on an empty database: each migration is applied once, every
//! replica starts, and no lock outlives the run (a session advisory lock stayed held behind a
//! transaction pooler).

use diesel::RunQueryDsl as _;
use tenancy::{Db, DbLimits, Error, Pooler};
use testkit::TestDb;

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(conn: &mut diesel::PgConnection, sql: &str) -> Result<i64, Error> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}

#[tokio::test]
async fn replicas_starting_together_apply_each_migration_once_and_leave_no_lock()
-> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    // An empty database: the template's migrations removed with everything they made.
    diesel::sql_query("DROP SCHEMA public CASCADE").execute(&mut conn)?;
    diesel::sql_query("CREATE SCHEMA public").execute(&mut conn)?;

    let replicas: Vec<Db> = [Pooler::None, Pooler::Transaction, Pooler::None]
        .into_iter()
        .map(|pooler| {
            let mut limits = DbLimits::for_pool(2);
            limits.pooler = pooler;
            Db::with_limits(test_db.url(), limits)
        })
        .collect();
    let runs: Vec<_> = replicas
        .iter()
        .cloned()
        .map(|db| tokio::spawn(async move { db.migrate().await }))
        .collect();
    let mut applied = Vec::new();
    for run in runs {
        applied.extend(run.await.map_err(|_| Error::Task)??);
    }
    let known = count(
        &mut conn,
        "SELECT count(*) AS n FROM __diesel_schema_migrations",
    )?;
    assert_eq!(
        i64::try_from(applied.len()).unwrap_or(i64::MAX),
        known,
        "every migration applied exactly once across the replicas: {applied:?}"
    );
    assert!(known >= 18, "{known}");
    assert_eq!(
        count(
            &mut conn,
            // pg_locks is the whole cluster's, where other tests' databases take advisory
            // locks of their own (the roll-up, the purge): only this database's count.
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )?,
        0,
        "no advisory lock is held after the migrations"
    );
    // And a replica started later finds nothing to do.
    assert!(replicas[0].migrate().await?.is_empty());
    Ok(())
}
