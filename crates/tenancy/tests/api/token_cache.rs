//! The memory of verified tokens against a real PostgreSQL: it answers without the database,
//! and forgets the moment the database announces a change, whoever made it.

use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use diesel::{PgConnection, RunQueryDsl as _};
use tenancy::scim_tokens::{self, DEFAULT_OVERLAP, IssuedToken, Rejection, TokenCache};
use tenancy::{Db, Error, TenantId};
use testkit::TestDb;

use crate::scim_tokens::scim_tenant;

/// A listening cache (the listener connects in the background).
async fn listening_cache(db: &Db) -> TokenCache {
    let cache = TokenCache::listening(db);
    let deadline = Instant::now() + StdDuration::from_secs(10);
    while !cache.is_listening() {
        assert!(Instant::now() < deadline, "the listener never connected");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    cache
}

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

/// A fresh database with one SCIM tenant and a token issued at `issued_at`.
struct Arranged {
    test_db: TestDb,
    db: Db,
    conn: PgConnection,
    tenant: TenantId,
    issued: IssuedToken,
}

fn arrange(issued_at: chrono::DateTime<Utc>) -> Result<Arranged, Error> {
    let test_db = TestDb::new();
    let db = test_db.db().clone();
    let mut conn = test_db.connect();
    let tenant = scim_tenant(&mut conn, "Acme")?;
    let issued = scim_tokens::issue(&mut conn, tenant, issued_at, DEFAULT_OVERLAP)?;
    Ok(Arranged {
        test_db,
        db,
        conn,
        tenant,
        issued,
    })
}

/// Revokes the token by hand (with `silently`, behind the listener's back).
fn revocation(token: &IssuedToken) -> String {
    format!(
        "UPDATE scim_tokens SET revoked_at = now(), revoked_reason = 'revoked' WHERE id = '{}'",
        token.record.id
    )
}

async fn verify(
    cache: &TokenCache,
    db: &Db,
    tenant: TenantId,
    token: &str,
) -> Result<Rejection, &'static str> {
    match cache.verify(db, tenant, token, Utc::now()).await {
        Ok(Ok(_)) => Err("accepted"),
        Ok(Err(rejection)) => Ok(rejection),
        Err(_) => Err("database error"),
    }
}

#[tokio::test]
async fn a_verified_token_is_answered_from_memory_until_a_change_is_announced() -> Result<(), Error>
{
    let Arranged {
        test_db: _test_db,
        db,
        mut conn,
        tenant,
        issued,
    } = arrange(Utc::now())?;
    let cache = listening_cache(&db).await;

    assert_eq!(
        verify(&cache, &db, tenant, &issued.token).await,
        Err("accepted")
    );
    // Revoked behind the listener's back: the memory still accepts the token, which shows the
    // second verification did not ask the database.
    silently(&mut conn, &revocation(&issued));
    assert_eq!(
        verify(&cache, &db, tenant, &issued.token).await,
        Err("accepted")
    );
    // The same revocation, announced: refused once the server caught up.
    run(
        &mut conn,
        &format!(
            "UPDATE scim_tokens SET revoked_at = now() WHERE id = '{}'",
            issued.record.id
        ),
    );
    cache.catch_up(&db).await?;
    assert_eq!(
        verify(&cache, &db, tenant, &issued.token).await,
        Ok(Rejection::Revoked)
    );
    Ok(())
}

#[tokio::test]
async fn a_change_made_by_another_process_reaches_the_cache_without_help() -> Result<(), Error> {
    let Arranged {
        test_db: _test_db,
        db,
        mut conn,
        tenant,
        issued,
    } = arrange(Utc::now())?;
    let cache = listening_cache(&db).await;
    assert_eq!(
        verify(&cache, &db, tenant, &issued.token).await,
        Err("accepted")
    );

    // Like `insights tenant disable-scim` from another machine: no catch-up call here.
    run(
        &mut conn,
        &format!("UPDATE tenants SET scim_enabled = false WHERE id = '{tenant}'"),
    );
    let deadline = Instant::now() + StdDuration::from_secs(2);
    loop {
        let verified = cache.verify(&db, tenant, &issued.token, Utc::now()).await?;
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
    let Arranged {
        test_db: _test_db,
        db,
        mut conn,
        tenant,
        issued: old,
    } = arrange(Utc::now())?;
    let cache = listening_cache(&db).await;
    assert_eq!(
        verify(&cache, &db, tenant, &old.token).await,
        Err("accepted")
    );
    let new = scim_tokens::issue(&mut conn, tenant, Utc::now(), DEFAULT_OVERLAP)?;
    cache.catch_up(&db).await?;
    assert_eq!(
        verify(&cache, &db, tenant, &old.token).await,
        Err("accepted")
    );

    assert_eq!(
        verify(&cache, &db, tenant, &new.token).await,
        Err("accepted")
    );

    // No waiting: the verification that retired the old token forgot it on the spot.
    assert_eq!(
        verify(&cache, &db, tenant, &old.token).await,
        Ok(Rejection::Revoked)
    );
    Ok(())
}

#[tokio::test]
async fn expiry_and_the_end_of_an_overlap_window_apply_to_remembered_tokens() -> Result<(), Error> {
    let Arranged {
        test_db: _test_db,
        db,
        mut conn,
        tenant,
        issued,
    } = arrange(Utc::now() - Duration::days(365) + Duration::seconds(30))?;
    let cache = listening_cache(&db).await;

    let now = Utc::now();
    assert!(matches!(
        cache.verify(&db, tenant, &issued.token, now).await?,
        Ok(v) if v.valid_until == issued.record.expires_at
    ));
    // A minute later the token is a year old: the remembered entry does not outlive it.
    assert_eq!(
        cache
            .verify(&db, tenant, &issued.token, now + Duration::minutes(1))
            .await?,
        Err(Rejection::Expired)
    );

    let old = scim_tokens::issue(&mut conn, tenant, now, Duration::minutes(5))?;
    let _new = scim_tokens::issue(&mut conn, tenant, now, Duration::minutes(5))?;
    assert!(matches!(
        cache.verify(&db, tenant, &old.token, now).await?,
        Ok(v) if v.valid_until <= now + Duration::minutes(5)
    ));
    assert_eq!(
        cache
            .verify(&db, tenant, &old.token, now + Duration::minutes(6))
            .await?,
        Err(Rejection::Revoked)
    );
    Ok(())
}

#[tokio::test]
async fn a_disabled_cache_asks_the_database_every_time() -> Result<(), Error> {
    let Arranged {
        test_db: _test_db,
        db,
        mut conn,
        tenant,
        issued,
    } = arrange(Utc::now())?;
    let cache = TokenCache::disabled();
    assert_eq!(
        verify(&cache, &db, tenant, &issued.token).await,
        Err("accepted")
    );
    silently(&mut conn, &revocation(&issued));
    assert_eq!(
        verify(&cache, &db, tenant, &issued.token).await,
        Ok(Rejection::Revoked)
    );
    cache.catch_up(&db).await?;
    Ok(())
}

#[tokio::test]
async fn a_listener_that_lost_its_session_forgets_everything_and_comes_back() -> Result<(), Error> {
    let Arranged {
        test_db: _test_db,
        db,
        mut conn,
        tenant,
        issued,
    } = arrange(Utc::now())?;
    let cache = listening_cache(&db).await;
    assert_eq!(
        verify(&cache, &db, tenant, &issued.token).await,
        Err("accepted")
    );

    // The listener's session ends (a database restart, a network cut); meanwhile the token is
    // revoked without an announcement reaching anyone.
    run(
        &mut conn,
        &format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '{}'",
            scim_tokens::APPLICATION_NAME
        ),
    );
    silently(&mut conn, &revocation(&issued));

    // The listener notices (it waits a second before reconnecting), then listens again.
    let deadline = Instant::now() + StdDuration::from_secs(5);
    while cache.is_listening() {
        assert!(Instant::now() < deadline, "the lost session went unnoticed");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    let deadline = Instant::now() + StdDuration::from_secs(10);
    while !cache.is_listening() {
        assert!(Instant::now() < deadline, "the listener did not come back");
        tokio::time::sleep(StdDuration::from_millis(20)).await;
    }
    // Well within an entry's minute, the token is refused: what was remembered before the loss
    // (which may have missed announcements) was forgotten.
    assert_eq!(
        verify(&cache, &db, tenant, &issued.token).await,
        Ok(Rejection::Revoked)
    );
    Ok(())
}
