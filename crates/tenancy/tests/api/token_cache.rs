//! The memory of verified tokens against a real PostgreSQL: it answers without the database,
//! forgets the moment a change is announced, whichever server made it, and asks again within
//! its re-check bound when an announcement is lost.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use diesel::{PgConnection, RunQueryDsl as _};
use tenancy::scim_tokens::{self, DEFAULT_OVERLAP, IssuedToken, Rejection, TokenCache};
use tenancy::{Db, Error, TenantId};
use testkit::TestDb;

use crate::scim_tokens::scim_tenant;

fn run(conn: &mut PgConnection, sql: &str) {
    diesel::sql_query(sql)
        .execute(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A change made by hand, without [`scim_tokens::announce`]: invisible to the cache until its
/// re-check. That is how a test tells "answered from memory" apart from "asked the database",
/// and what a lost announcement looks like.
fn silently(conn: &mut PgConnection, sql: &str) {
    run(conn, sql);
}

/// The same change, announced as the application's own writes announce it.
fn announced(conn: &mut PgConnection, tenant: TenantId, sql: &str) -> Result<(), Error> {
    run(conn, sql);
    scim_tokens::announce(conn, tenant)
}

/// Revokes the token by hand (with `silently`, behind the listener's back).
fn revocation(token: &IssuedToken) -> String {
    format!(
        "UPDATE scim_tokens SET revoked_at = now(), revoked_reason = 'revoked' WHERE id = '{}'",
        token.record.id
    )
}

/// A fresh database with one SCIM tenant, a token issued at `issued_at`, and a cache.
struct Arranged {
    test_db: TestDb,
    db: Db,
    conn: PgConnection,
    tenant: TenantId,
    issued: IssuedToken,
    cache: TokenCache,
}

/// With a listening cache (once its listener is connected), or a disabled one.
async fn arrange(issued_at: DateTime<Utc>, listening: bool) -> Result<Arranged, Error> {
    let test_db = TestDb::new();
    let db = test_db.db().clone();
    let mut conn = test_db.connect();
    let tenant = scim_tenant(&mut conn, "Acme")?;
    let issued = scim_tokens::issue(&mut conn, tenant, issued_at, DEFAULT_OVERLAP)?;
    let cache = if listening {
        TokenCache::listening(&db)
    } else {
        TokenCache::disabled()
    };
    if listening {
        wait_until(&cache, true, "the listener never connected").await;
    }
    Ok(Arranged {
        test_db,
        db,
        conn,
        tenant,
        issued,
        cache,
    })
}

/// Polls until the cache's listener is (or is not) connected, for at most 10 s.
async fn wait_until(cache: &TokenCache, listening: bool, failure: &str) {
    let deadline = Instant::now() + StdDuration::from_secs(10);
    while cache.is_listening() != listening {
        assert!(Instant::now() < deadline, "{failure}");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

impl Arranged {
    fn test_url(&self) -> &str {
        self.test_db.url()
    }

    /// The cache's answer for `token` now: `Err("accepted")` or the rejection.
    async fn check(&self, token: &IssuedToken) -> Result<Rejection, &'static str> {
        match self
            .cache
            .verify(&self.db, self.tenant, &token.token, Utc::now())
            .await
        {
            Ok(Ok(_)) => Err("accepted"),
            Ok(Err(rejection)) => Ok(rejection),
            Err(_) => Err("database error"),
        }
    }
}

#[tokio::test]
async fn a_verified_token_is_answered_from_memory_until_a_change_is_announced() -> Result<(), Error>
{
    let mut a = arrange(Utc::now(), true).await?;

    assert_eq!(a.check(&a.issued).await, Err("accepted"));
    // Revoked behind the listener's back: the memory still accepts the token, which shows the
    // second verification did not ask the database.
    silently(&mut a.conn, &revocation(&a.issued));
    assert_eq!(a.check(&a.issued).await, Err("accepted"));
    // The same revocation, announced: refused once the server caught up.
    announced(
        &mut a.conn,
        a.tenant,
        &format!(
            "UPDATE scim_tokens SET revoked_at = now() WHERE id = '{}'",
            a.issued.record.id
        ),
    )?;
    a.cache.catch_up(&a.db).await?;
    assert_eq!(a.check(&a.issued).await, Ok(Rejection::Revoked));
    Ok(())
}

#[tokio::test]
async fn a_change_made_by_another_process_reaches_the_cache_without_help() -> Result<(), Error> {
    let mut a = arrange(Utc::now(), true).await?;
    assert_eq!(a.check(&a.issued).await, Err("accepted"));

    // `insights tenant disable-scim` from another machine: no catch-up call here.
    tenancy::tenants::set_scim_enabled(&mut a.conn, a.tenant, false)?;
    // Well within the re-check bound: the announcement, not the re-check, did it.
    let deadline = Instant::now() + StdDuration::from_millis(500);
    loop {
        let verified = a
            .cache
            .verify(&a.db, a.tenant, &a.issued.token, Utc::now())
            .await?;
        if matches!(verified, Ok(v) if !v.scim_enabled) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the SCIM switch did not reach the cache within 500 ms"
        );
        tokio::time::sleep(StdDuration::from_millis(5)).await;
    }
    Ok(())
}

#[tokio::test]
async fn first_use_of_a_new_token_retires_the_remembered_old_one_at_once() -> Result<(), Error> {
    let mut a = arrange(Utc::now(), true).await?;
    assert_eq!(a.check(&a.issued).await, Err("accepted"));
    let new = scim_tokens::issue(&mut a.conn, a.tenant, Utc::now(), DEFAULT_OVERLAP)?;
    a.cache.catch_up(&a.db).await?;
    assert_eq!(a.check(&a.issued).await, Err("accepted"));

    assert_eq!(a.check(&new).await, Err("accepted"));

    // No waiting: the verification that retired the old token forgot it on the spot.
    assert_eq!(a.check(&a.issued).await, Ok(Rejection::Revoked));
    Ok(())
}

#[tokio::test]
async fn expiry_and_the_end_of_an_overlap_window_apply_to_remembered_tokens() -> Result<(), Error> {
    let mut a = arrange(
        Utc::now() - Duration::days(365) + Duration::seconds(30),
        true,
    )
    .await?;

    let now = Utc::now();
    assert!(matches!(
        a.cache.verify(&a.db, a.tenant, &a.issued.token, now).await?,
        Ok(v) if v.valid_until == a.issued.record.expires_at
    ));
    // A minute later the token is a year old: the remembered entry does not outlive it.
    assert_eq!(
        a.cache
            .verify(&a.db, a.tenant, &a.issued.token, now + Duration::minutes(1))
            .await?,
        Err(Rejection::Expired)
    );

    let old = scim_tokens::issue(&mut a.conn, a.tenant, now, Duration::minutes(5))?;
    let _new = scim_tokens::issue(&mut a.conn, a.tenant, now, Duration::minutes(5))?;
    assert!(matches!(
        a.cache.verify(&a.db, a.tenant, &old.token, now).await?,
        Ok(v) if v.valid_until <= now + Duration::minutes(5)
    ));
    assert_eq!(
        a.cache
            .verify(&a.db, a.tenant, &old.token, now + Duration::minutes(6))
            .await?,
        Err(Rejection::Revoked)
    );
    Ok(())
}

#[tokio::test]
async fn a_disabled_cache_asks_the_database_every_time() -> Result<(), Error> {
    let mut a = arrange(Utc::now(), false).await?;
    assert_eq!(a.check(&a.issued).await, Err("accepted"));
    silently(&mut a.conn, &revocation(&a.issued));
    assert_eq!(a.check(&a.issued).await, Ok(Rejection::Revoked));
    a.cache.catch_up(&a.db).await?;
    Ok(())
}

#[tokio::test]
async fn a_listener_that_lost_its_session_forgets_everything_and_comes_back() -> Result<(), Error> {
    let mut a = arrange(Utc::now(), true).await?;
    assert_eq!(a.check(&a.issued).await, Err("accepted"));

    // The listener's session ends (a database restart, a network cut); meanwhile the token is
    // revoked without an announcement reaching anyone.
    run(
        &mut a.conn,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = '{}'",
            scim_tokens::APPLICATION_NAME
        ),
    );
    silently(&mut a.conn, &revocation(&a.issued));

    // The listener notices (it waits a second before reconnecting), then listens again.
    wait_until(&a.cache, false, "the lost session went unnoticed").await;
    wait_until(&a.cache, true, "the listener did not come back").await;
    // The token is refused: what was remembered before the loss (which may have missed
    // announcements) was forgotten.
    assert_eq!(a.check(&a.issued).await, Ok(Rejection::Revoked));
    Ok(())
}

#[tokio::test]
async fn a_lost_announcement_is_made_good_by_the_recheck_within_its_bound() -> Result<(), Error> {
    let mut a = arrange(Utc::now(), true).await?;
    // The database is asked somewhere inside this first check: no earlier than `first_asked`.
    let first_asked = Instant::now();
    assert_eq!(a.check(&a.issued).await, Err("accepted"));
    let asked_before = Instant::now();
    assert_eq!(a.check(&a.issued).await, Err("accepted"));

    // Revoked with no announcement at all (as if it were lost on its way).
    silently(&mut a.conn, &revocation(&a.issued));
    let revoked_at = Instant::now();
    // Remembered for now, unless this machine was so busy that the bound already passed (CI
    // runs every suite at once on two cores): then the database must have been asked.
    match a.check(&a.issued).await {
        Err("accepted") => {}
        Ok(Rejection::Revoked) => assert!(
            first_asked.elapsed() >= scim_tokens::RECHECK_AFTER,
            "forgotten after only {:?}, before its re-check bound",
            first_asked.elapsed()
        ),
        other => panic!("neither remembered nor refused as revoked: {other:?}"),
    }
    loop {
        match a.check(&a.issued).await {
            Ok(rejection) => {
                assert_eq!(rejection, Rejection::Revoked);
                break;
            }
            Err(_) => assert!(
                revoked_at.elapsed() < scim_tokens::REFUSED_EVERYWHERE_WITHIN,
                "a revoked token was still accepted {:?} after the revocation",
                revoked_at.elapsed()
            ),
        }
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    // Asked again once the remembered answer was as old as the bound, not much later.
    let refused_after = asked_before.elapsed();
    assert!(
        refused_after <= scim_tokens::REFUSED_EVERYWHERE_WITHIN,
        "{refused_after:?}"
    );
    Ok(())
}

#[tokio::test]
async fn behind_a_transaction_pooler_without_a_listen_url_nothing_is_remembered()
-> Result<(), Error> {
    let mut a = arrange(Utc::now(), false).await?;
    let mut limits = tenancy::DbLimits::for_pool(2);
    limits.pooler = tenancy::Pooler::Transaction;
    let pooled = Db::with_limits(a.test_url(), limits);
    let cache = TokenCache::listening(&pooled);
    tokio::time::sleep(StdDuration::from_millis(300)).await;
    assert!(!cache.is_listening(), "no session to listen on");
    let verified = cache
        .verify(&pooled, a.tenant, &a.issued.token, Utc::now())
        .await?;
    assert!(verified.is_ok());
    silently(&mut a.conn, &revocation(&a.issued));
    assert_eq!(
        cache
            .verify(&pooled, a.tenant, &a.issued.token, Utc::now())
            .await?,
        Err(Rejection::Revoked),
        "asked the database, through the transaction-mode pool"
    );

    // With a listen URL of its own (PostgreSQL itself), the same pool's server listens.
    let listening = TokenCache::listening(&pooled.clone().with_listen_url(Some(a.test_url())));
    wait_until(
        &listening,
        true,
        "the listener on its own URL never connected",
    )
    .await;
    Ok(())
}
