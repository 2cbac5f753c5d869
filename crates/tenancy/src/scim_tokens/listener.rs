//! The thread that keeps a `LISTEN` session on the SCIM auth channel and tells the token cache
//! what the database announces; it reconnects after failures and ends with the cache.

use std::sync::Weak;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use diesel::{PgConnection, RunQueryDsl as _};

use super::cache::{CATCH_UP_LIMIT, CHANNEL, Inner, POLL_EVERY, PROBE};
use crate::db::Db;
use crate::error::Result;

/// The listener's `application_name`.
pub const APPLICATION_NAME: &str = "insights-scim-auth-listener";
/// How often the listener proves its session is alive with a query.
const PING_EVERY: Duration = Duration::from_secs(5);
/// How long the listener waits before reconnecting after losing its session.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// The longest wait between two attempts to listen.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// The listener thread: keeps a `LISTEN` session open and reconnects when it is lost (waiting
/// longer after each failure in a row), until the cache is dropped.
pub(super) fn listen(cache: &Weak<Inner>, db: &Db) {
    let mut wait = RETRY_AFTER;
    let mut reported = false;
    loop {
        match session(cache, db) {
            Ok(()) => return,
            Err(error) => {
                let Some(inner) = cache.upgrade() else { return };
                if inner.listening.load(Ordering::Acquire) {
                    // It was working: try again soon.
                    wait = RETRY_AFTER;
                }
                inner.set_listening(false);
                drop(inner);
                if !reported {
                    tracing::warn!(%error, "the SCIM token listener is not listening; tokens are checked against the database on every request until it is");
                    reported = true;
                }
            }
        }
        if !pause(cache, wait) {
            return;
        }
        wait = (wait * 2).min(MAX_RETRY_AFTER);
    }
}

/// Sleeps for `duration` in short steps; false as soon as the cache is dropped.
fn pause(cache: &Weak<Inner>, duration: Duration) -> bool {
    let until = Instant::now() + duration;
    while Instant::now() < until {
        if cache.strong_count() == 0 {
            return false;
        }
        std::thread::sleep(POLL_EVERY.max(Duration::from_millis(100)));
    }
    cache.strong_count() > 0
}

/// One `LISTEN` session. `Ok` when the cache was dropped; `Err` when the session failed,
/// announcements sent by another connection do not reach it, or it turns out not to be one
/// server session throughout (a pooler in transaction mode between it and PostgreSQL).
fn session(cache: &Weak<Inner>, db: &Db) -> Result<()> {
    let mut conn = db.connect_listener()?;
    // Named, so that an operator can tell it apart in `pg_stat_activity`.
    diesel::sql_query(format!("SET application_name = '{APPLICATION_NAME}'")).execute(&mut conn)?;
    diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn)?;
    let backend = backend_pid(&mut conn)?;
    probe(&mut conn, db)?;
    match cache.upgrade() {
        Some(inner) => inner.set_listening(true),
        None => return Ok(()),
    }
    let mut pinged = Instant::now();
    loop {
        std::thread::sleep(POLL_EVERY);
        let Some(inner) = cache.upgrade() else {
            return Ok(());
        };
        drain(&mut conn, &inner)?;
        if pinged.elapsed() >= PING_EVERY {
            if backend_pid(&mut conn)? != backend {
                return Err(not_one_session());
            }
            pinged = Instant::now();
            drain(&mut conn, &inner)?;
        }
    }
}

/// The server process behind `conn`: the same one throughout a real session, not behind a
/// pooler in transaction mode.
fn backend_pid(conn: &mut PgConnection) -> Result<i32> {
    #[derive(diesel::QueryableByName)]
    struct Backend {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        pid: i32,
    }
    let backend: Backend = diesel::sql_query("SELECT pg_backend_pid() AS pid").get_result(conn)?;
    Ok(backend.pid)
}

fn not_one_session() -> crate::error::Error {
    crate::error::Error::Invalid(
        "the SCIM token listener's connection is not one database session throughout \
         (a pooler in transaction mode?): point INSIGHTS_LISTEN_DATABASE_URL at PostgreSQL itself"
            .into(),
    )
}

/// Announces from another connection (as a revocation would arrive) and waits for the
/// announcement to reach this session. A pooler in transaction mode accepts `LISTEN` but the
/// server session that listens is soon someone else's: then nothing may be remembered. (An
/// announcement sent on the listening session itself would come back to it even there.)
fn probe(conn: &mut PgConnection, db: &Db) -> Result<()> {
    use diesel::sql_types::Text;
    let payload = format!("{PROBE}{}", uuid::Uuid::new_v4());
    let mut announcer = db.connect_announcer()?;
    diesel::sql_query("SELECT pg_notify($1, $2)")
        .bind::<Text, _>(CHANNEL)
        .bind::<Text, _>(&payload)
        .execute(&mut announcer)?;
    drop(announcer);
    let deadline = Instant::now() + CATCH_UP_LIMIT;
    loop {
        // What arrives before the session counts as listening is of no use: everything is
        // forgotten when it starts.
        for notification in conn.notifications_iter() {
            if notification?.payload == payload {
                return Ok(());
            }
        }
        if Instant::now() >= deadline {
            return Err(crate::error::Error::Invalid(
                "announcements from other connections do not reach the SCIM token listener \
                 (a pooler in transaction mode?): point INSIGHTS_LISTEN_DATABASE_URL at \
                 PostgreSQL itself"
                    .into(),
            ));
        }
        std::thread::sleep(POLL_EVERY);
    }
}

/// Acts on every announcement received so far.
fn drain(conn: &mut PgConnection, inner: &Inner) -> Result<()> {
    for notification in conn.notifications_iter() {
        inner.announced(&notification?.payload);
    }
    Ok(())
}
