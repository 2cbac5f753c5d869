//! The memory of verified tokens against a real PostgreSQL: it answers without the database,
//! and forgets the moment the database announces a change, whoever made it.

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

/// Changes made with the announcing triggers switched off are invisible to the cache: that is
/// how a test tells "answered from memory" apart from "asked the database".
fn silently(conn: &mut PgConnection, sql: &str) {
    run(
        conn,
        "ALTER TABLE scim_tokens DISABLE TRIGGER scim_tokens_announce_auth_change",
    );
    run(conn, sql);
    run(
        conn,
        "ALTER TABLE scim_tokens ENABLE TRIGGER scim_tokens_announce_auth_change",
    );
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
    _test_db: TestDb,
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
        _test_db: test_db,
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
    run(
        &mut a.conn,
        &format!(
            "UPDATE scim_tokens SET revoked_at = now() WHERE id = '{}'",
            a.issued.record.id
        ),
    );
    a.cache.catch_up(&a.db).await?;
    assert_eq!(a.check(&a.issued).await, Ok(Rejection::Revoked));
    Ok(())
}

#[tokio::test]
async fn a_change_made_by_another_process_reaches_the_cache_without_help() -> Result<(), Error> {
    let mut a = arrange(Utc::now(), true).await?;
    assert_eq!(a.check(&a.issued).await, Err("accepted"));

    // Like `insights tenant disable-scim` from another machine: no catch-up call here.
    run(
        &mut a.conn,
        &format!(
            "UPDATE tenants SET scim_enabled = false WHERE id = '{}'",
            a.tenant
        ),
    );
    let deadline = Instant::now() + StdDuration::from_secs(2);
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
            "the SCIM switch did not reach the cache within 2 s"
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
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{}'",
            scim_tokens::APPLICATION_NAME
        ),
    );
    silently(&mut a.conn, &revocation(&a.issued));

    // The listener notices (it waits a second before reconnecting), then listens again.
    wait_until(&a.cache, false, "the lost session went unnoticed").await;
    wait_until(&a.cache, true, "the listener did not come back").await;
    // Well within an entry's minute, the token is refused: what was remembered before the loss
    // (which may have missed announcements) was forgotten.
    assert_eq!(a.check(&a.issued).await, Ok(Rejection::Revoked));
    Ok(())
}
