//! The SCIM side of the defence-in-depth review, finding by finding: inputs that answered 500,
//! an event that made others be lost, lost connections and stuck locks, unthrottled guessing,
//! slow bodies, and missing headers. Each test failed on the code before the fixes.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use diesel::{Connection as _, RunQueryDsl as _};
use reqwest::Method;
use serde_json::json;
use tenancy::limits::{FailureLimiter, FailureQuota};

use crate::helpers::{
    AppOptions, GROUP_SCHEMA, USER_SCHEMA, encode, filter_query, patch_body, spawn_app,
    spawn_app_with,
};

#[tokio::test]
async fn a_presence_filter_on_id_is_answered() {
    let app = spawn_app().await;
    app.create_user("present@example.com").await;
    app.create_group("Present", &[]).await;
    for (resource, filter, expected) in [
        ("Users", "id pr", 1),
        ("Users", "id pr and userName pr", 1),
        ("Users", "not (id pr)", 0),
        ("Users", "userName eq \"nobody\" or id pr", 1),
        ("Groups", "id pr", 1),
        ("Groups", "displayName pr and not (id pr)", 0),
    ] {
        let listed = app
            .get(&format!("/{resource}?{}", filter_query(filter)))
            .await;
        listed.assert_status(200);
        assert_eq!(listed.total(), expected, "{resource}?filter={filter}");
    }
}

#[tokio::test]
async fn indexed_texts_past_their_limit_are_refused_with_the_limit() {
    let app = spawn_app().await;
    let huge = "g".repeat(1024 * 1024);
    let group = app
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_SCHEMA], "displayName": huge}),
        )
        .await;
    let detail = group.assert_scim_error(400, Some("invalidValue"));
    assert!(detail.contains("1024 bytes"), "{detail}");

    let named = app.create_group("Named", &[]).await;
    let renamed = app
        .patch(
            &format!("/Groups/{named}"),
            &patch_body(json!([{"op": "replace", "path": "displayName", "value": huge}])),
        )
        .await;
    renamed.assert_scim_error(400, Some("invalidValue"));

    let long = "u".repeat(600);
    for (field, body) in [
        (
            "userName",
            json!({"schemas": [USER_SCHEMA], "userName": long}),
        ),
        (
            "externalId",
            json!({"schemas": [USER_SCHEMA], "userName": "e@example.com", "externalId": long}),
        ),
        (
            "emails.value",
            json!({"schemas": [USER_SCHEMA], "userName": "m@example.com", "emails": [{"value": long, "primary": true}]}),
        ),
    ] {
        let created = app.post("/Users", &body).await;
        let detail = created.assert_scim_error(400, Some("invalidValue"));
        assert!(
            detail.contains(field) && detail.contains("512 bytes"),
            "{detail}"
        );
    }
}

#[tokio::test]
async fn an_event_with_a_nul_is_stored_and_loses_no_other_event() {
    let app = spawn_app().await;
    let before = app.events().await.len();
    // Sent together, so that they reach the event writer's same batch.
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..21 {
        let scim = app.scim.clone();
        requests.spawn(async move {
            let path = match n {
                0 => "/Users/a%00b",
                n if n % 2 == 0 => "/Users",
                _ => "/Groups",
            };
            scim.get(path).await
        });
    }
    while let Some(answer) = requests.join_next().await {
        let answer = answer.expect("request task");
        assert!(answer.status < 500, "{}", answer.text);
    }
    let events = app.wait_for_events(before + 21).await;
    assert_eq!(events.len(), before + 21, "every event was stored");
    let nul = events
        .iter()
        .find(|e| e["status"] == 404)
        .expect("the 404 was logged");
    assert!(
        nul.to_string().contains('\u{FFFD}'),
        "the NUL is replaced: {nul}"
    );
}

#[tokio::test]
async fn wrong_tokens_from_one_address_are_throttled() {
    let app = spawn_app().await;
    let guesser = app.with_authorization(Some(
        "Bearer scim_thisisnotarealtokenbutlooksalmostlikeone12",
    ));
    for _ in 0..scim_api::auth::FAILED_AUTH_PER_ADDRESS.burst {
        guesser.get("/Users").await.assert_status(401);
    }
    let throttled = guesser.get("/Users").await;
    throttled.assert_scim_error(429, None);
    let retry = throttled.header("retry-after").expect("Retry-After");
    assert!(retry.parse::<u64>().is_ok_and(|s| s >= 1), "{retry}");
    // The address waits whatever it sends, and nothing was looked up in the database for it.
    app.get("/Users").await.assert_status(429);
    app.with_authorization(None)
        .get("/Users")
        .await
        .assert_status(429);
}

#[tokio::test]
async fn a_tenant_under_attack_keeps_its_known_token_working() {
    // Per-address throttling out of the way (every request of a test comes from 127.0.0.1),
    // so that only the tenant's own bucket applies.
    let app = spawn_app_with(AppOptions {
        auth_limits: Some(scim_api::auth::AuthLimits {
            by_address: FailureLimiter::new(FailureQuota::new(10_000, Duration::from_millis(1))),
            by_tenant: FailureLimiter::new(FailureQuota::new(5, Duration::from_secs(60))),
        }),
        ..AppOptions::default()
    })
    .await;
    // Tokens are remembered once the server listens for token changes.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !app.tokens.is_listening() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    app.get("/Users").await.assert_status(200);
    let guesser =
        app.with_authorization(Some("Bearer scim_anotherwrongtokenthatisofthecorrectlen1"));
    for _ in 0..5 {
        guesser.get("/Users").await.assert_status(401);
    }
    guesser.get("/Users").await.assert_scim_error(429, None);
    // The identity provider's token was verified a moment ago: it is not held up.
    app.get("/Users").await.assert_status(200);
}

#[tokio::test]
async fn lost_connections_answer_503_with_retry_after_then_recover() {
    let app = spawn_app().await;
    let user = app.create_user("survivor@example.com").await;
    // Warm the pool, then kill every connection the server holds.
    for _ in 0..8 {
        app.get(&format!("/Users/{user}")).await.assert_status(200);
    }
    let mut admin = app.test_db.connect();
    diesel::sql_query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .expect("terminate the server's connections");
    let mut unavailable = 0;
    for _ in 0..20 {
        let answer = app.get(&format!("/Users/{user}")).await;
        match answer.status {
            200 => {}
            503 => {
                unavailable += 1;
                answer.assert_scim_error(503, None);
                assert!(answer.header("retry-after").is_some(), "{}", answer.text);
            }
            other => panic!("after the connections were lost: {other} {}", answer.text),
        }
    }
    // Dead connections are discarded: the server is whole again.
    app.get(&format!("/Users/{user}")).await.assert_status(200);
    eprintln!("{unavailable} of 20 requests after the connections were lost answered 503");
}

#[tokio::test]
async fn a_database_that_is_down_answers_503_with_retry_after() {
    // Nothing listens on port 1: every connection attempt is refused.
    let app = spawn_app_with(AppOptions {
        database_url: Some("postgres://postgres@127.0.0.1:1/none".into()),
        ..AppOptions::default()
    })
    .await;
    for path in ["/Users", "/Groups/00000000-0000-0000-0000-000000000000"] {
        let answer = app.get(path).await;
        answer.assert_scim_error(503, None);
        assert_eq!(answer.header("retry-after").as_deref(), Some("5"));
    }
}

#[tokio::test]
async fn a_stuck_lock_answers_503_instead_of_holding_the_request() {
    let mut limits = tenancy::DbLimits::for_pool(4);
    limits.lock_timeout = Duration::from_millis(300);
    let app = spawn_app_with(AppOptions {
        limits: Some(limits),
        ..AppOptions::default()
    })
    .await;
    let user = app.create_user("locked@example.com").await;
    let mut holder = locked_from_outside(
        &app,
        &format!("SELECT 1 FROM users WHERE id = '{user}' FOR UPDATE"),
    );
    let started = Instant::now();
    let answer = app
        .patch(
            &format!("/Users/{user}"),
            &patch_body(json!([{"op": "replace", "path": "displayName", "value": "X"}])),
        )
        .await;
    answer.assert_scim_error(503, None);
    assert!(answer.header("retry-after").is_some());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    diesel::sql_query("ROLLBACK")
        .execute(&mut holder)
        .expect("rollback");
    app.patch(
        &format!("/Users/{user}"),
        &patch_body(json!([{"op": "replace", "path": "displayName", "value": "X"}])),
    )
    .await
    .assert_status(200);
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_cut_off() {
    let app = spawn_app_with(AppOptions {
        body_timeout: Some(Duration::from_secs(1)),
        ..AppOptions::default()
    })
    .await;
    let address = app.address.trim_start_matches("http://").to_owned();
    let tenant = app.tenant;
    let token = app.token.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(&address).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("read timeout");
        let head = format!(
            "POST /scim/v2/{tenant}/Users HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/scim+json\r\nContent-Length: 200\r\n\r\n"
        );
        stream.write_all(head.as_bytes()).expect("head");
        let started = Instant::now();
        // One byte every 300 ms: 200 bytes would take a minute.
        let mut response = Vec::new();
        for byte in b"{\"userName\": \"slow\"".iter().cycle().take(200) {
            if stream.write_all(&[*byte]).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
            stream.set_nonblocking(true).expect("nonblocking");
            let mut buffer = [0u8; 4096];
            if let Ok(n) = stream.read(&mut buffer)
                && n > 0
            {
                response.extend_from_slice(&buffer[..n]);
                break;
            }
            stream.set_nonblocking(false).expect("blocking");
            if started.elapsed() > Duration::from_secs(8) {
                break;
            }
        }
        (String::from_utf8_lossy(&response).into_owned(), started.elapsed())
    })
    .await
    .expect("slow client");
    let (text, took) = answer;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.contains("urn:ietf:params:scim:api:messages:2.0:Error"),
        "{text}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[tokio::test]
async fn scim_answers_are_never_cached_or_sniffed() {
    let app = spawn_app().await;
    let user = app.create_user("headers@example.com").await;
    let answers = [
        app.get(&format!("/Users/{user}")).await,
        app.get("/Users/00000000-0000-0000-0000-000000000000").await,
        app.with_authorization(None).get("/Users").await,
        app.send(Method::POST, "/Users", Some("{".into()), &[])
            .await,
        app.get(&format!("/Users?filter={}", encode("userName eq")))
            .await,
    ];
    for answer in answers {
        assert_eq!(
            answer.header("cache-control").as_deref(),
            Some("no-store"),
            "{}",
            answer.request
        );
        assert_eq!(
            answer.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{}",
            answer.request
        );
    }
}

#[tokio::test]
async fn a_group_put_and_member_patches_running_together_do_not_fail() {
    let app = spawn_app().await;
    let user = app.create_user("member@example.com").await;
    let group = app.create_group("Contended", &[]).await;
    let path = format!("/Groups/{group}");
    let mut requests = tokio::task::JoinSet::new();
    for n in 0..60 {
        let (scim, path, user) = (app.scim.clone(), path.clone(), user.clone());
        requests.spawn(async move {
            if n % 2 == 0 {
                scim.put(
                    &path,
                    &json!({"schemas": [GROUP_SCHEMA], "displayName": "Contended", "members": []}),
                )
                .await
            } else {
                scim.patch(
                    &path,
                    &patch_body(
                        json!([{"op": "replace", "path": "members", "value": [{"value": user}]}]),
                    ),
                )
                .await
            }
        });
    }
    while let Some(answer) = requests.join_next().await {
        let answer = answer.expect("request task");
        assert!(
            matches!(answer.status, 200 | 204),
            "{} answered {}: {}",
            answer.request,
            answer.status,
            answer.text
        );
    }
}

#[tokio::test]
async fn a_batch_that_waits_out_a_lock_answers_every_request_503_at_once() {
    let mut limits = tenancy::DbLimits::for_pool(4);
    limits.lock_timeout = Duration::from_millis(300);
    let app = spawn_app_with(AppOptions {
        limits: Some(limits),
        ..AppOptions::default()
    })
    .await;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(app.create_user(&format!("locked-{i}@example.com")).await);
    }
    let mut holder = locked_from_outside(&app, "SELECT 1 FROM users FOR UPDATE");
    // The first deactivation waits out the lock alone while the others queue into one batch,
    // which waits it out once: retried one by one, they would take 300 ms each.
    let started = Instant::now();
    let mut running = Vec::new();
    for id in &users {
        let (client, path) = (app.scim.clone(), format!("/Users/{id}"));
        running.push(tokio::spawn(async move {
            client
                .patch(
                    &path,
                    &patch_body(json!([{"op": "replace", "value": {"active": false}}])),
                )
                .await
        }));
    }
    for handle in running {
        let answer = handle.await.expect("request");
        answer.assert_scim_error(503, None);
        assert!(answer.header("retry-after").is_some());
    }
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?} for 20 requests",
        started.elapsed()
    );
    diesel::sql_query("ROLLBACK")
        .execute(&mut holder)
        .expect("rollback");
    let row = app.user_row(&users[5]).await.unwrap_or_default();
    assert_eq!(row["active"], true, "nothing was written");
}

/// A connection of another client that took the locks of `locking` in a transaction it keeps
/// open (until the caller sends `ROLLBACK`).
fn locked_from_outside(app: &crate::helpers::TestApp, locking: &str) -> diesel::PgConnection {
    let mut holder = diesel::PgConnection::establish(app.test_db.url()).expect("connect");
    diesel::sql_query("BEGIN")
        .execute(&mut holder)
        .expect("begin");
    diesel::sql_query(locking)
        .execute(&mut holder)
        .expect("take the locks");
    holder
}
