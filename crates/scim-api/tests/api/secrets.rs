//! No secret reaches the database: a password (the core schema's write-only, never-returned
//! attribute) sent in any position a client can put it — resource bodies, every PATCH form,
//! filters in the query string and in `.search` bodies — is neither stored with the user nor
//! kept in the activity log, whatever the request's outcome.

use proptest::prelude::*;
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{ENTERPRISE, TestApp, USER_SCHEMA, encode, patch_body, spawn_app};

const CORE_PASSWORD: &str = "urn:ietf:params:scim:schemas:core:2.0:User:password";

/// Where a request carries the secret.
#[derive(Debug, Clone)]
enum Position {
    CreateTopLevel,
    CreateQualifiedKey,
    CreateInCoreObject,
    ReplaceTopLevel,
    PatchPath { op: &'static str, qualified: bool },
    PatchPathless { qualified: bool },
    PatchUnparsablePath,
    PatchWrongType,
    QueryFilter,
    SearchFilter,
    ExtensionCustomKey,
}

fn position() -> impl Strategy<Value = Position> {
    prop_oneof![
        Just(Position::CreateTopLevel),
        Just(Position::CreateQualifiedKey),
        Just(Position::CreateInCoreObject),
        Just(Position::ReplaceTopLevel),
        (
            prop_oneof![Just("replace"), Just("Replace"), Just("add"), Just("ADD")],
            any::<bool>()
        )
            .prop_map(|(op, qualified)| Position::PatchPath { op, qualified }),
        any::<bool>().prop_map(|qualified| Position::PatchPathless { qualified }),
        Just(Position::PatchUnparsablePath),
        Just(Position::PatchWrongType),
        Just(Position::QueryFilter),
        Just(Position::SearchFilter),
        Just(Position::ExtensionCustomKey),
    ]
}

/// A secret that appears nowhere by chance: a marker and random characters, some of which need
/// escaping in JSON or in a URL.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 \"%&+/=\\\\]{8,24}".prop_map(|tail| format!("S3CR{tail}"))
}

async fn send(app: &TestApp, user: &str, position: &Position, secret: &str, n: usize) -> u16 {
    let user_path = format!("/Users/{user}");
    let password_key = |qualified: bool| if qualified { CORE_PASSWORD } else { "password" };
    let response = match position {
        Position::CreateTopLevel => {
            app.post(
                "/Users",
                &json!({"schemas": [USER_SCHEMA], "userName": format!("c{n}@example.com"), "password": secret}),
            )
            .await
        }
        Position::CreateQualifiedKey => {
            app.post(
                "/Users",
                &json!({"schemas": [USER_SCHEMA], "userName": format!("q{n}@example.com"), CORE_PASSWORD: secret}),
            )
            .await
        }
        Position::CreateInCoreObject => {
            app.post(
                "/Users",
                &json!({"schemas": [USER_SCHEMA], "userName": format!("o{n}@example.com"), USER_SCHEMA: {"password": secret}}),
            )
            .await
        }
        Position::ReplaceTopLevel => {
            app.put(
                &user_path,
                &json!({"schemas": [USER_SCHEMA], "userName": "target@example.com", "password": secret}),
            )
            .await
        }
        Position::PatchPath { op, qualified } => {
            app.patch(
                &user_path,
                &patch_body(json!([{"op": op, "path": password_key(*qualified), "value": secret}])),
            )
            .await
        }
        Position::PatchPathless { qualified } => {
            app.patch(
                &user_path,
                &patch_body(json!([{"op": "replace", "value": {password_key(*qualified): secret, "active": true}}])),
            )
            .await
        }
        Position::PatchUnparsablePath => {
            app.patch(
                &user_path,
                &patch_body(json!([{"op": "replace", "path": format!("password[{secret}"), "value": secret}])),
            )
            .await
        }
        Position::PatchWrongType => {
            app.patch(
                &user_path,
                &patch_body(json!([{"op": "replace", "path": "password", "value": {"nested": secret}}])),
            )
            .await
        }
        Position::QueryFilter => {
            let filter = format!("password eq {}", json!(secret));
            app.get(&format!("/Users?filter={}", encode(&filter))).await
        }
        Position::SearchFilter => {
            app.post(
                "/Users/.search",
                &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": format!("password eq {}", json!(secret))}),
            )
            .await
        }
        Position::ExtensionCustomKey => {
            app.patch(
                &user_path,
                &patch_body(json!([{"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "Sales"},
                                   {"op": "replace", "path": "password", "value": secret}])),
            )
            .await
        }
    };
    response.status
}

/// Rows of the database whose text contains `secret`: the activity log (path, error,
/// payload) and the stored users.
async fn traces(app: &TestApp, secret: &str) -> Vec<Value> {
    let like = secret.replace('\'', "''");
    app.query_json(&format!(
        "SELECT to_jsonb(e) AS json FROM provisioning_events e \
         WHERE strpos(e.path || coalesce(e.error, '') || coalesce(e.payload::text, ''), '{like}') > 0 \
            OR strpos(coalesce(e.payload::text, ''), {json}) > 0 \
         UNION ALL SELECT to_jsonb(u) FROM users u WHERE strpos(u.attributes::text, '{like}') > 0 \
            OR strpos(u.attributes::text, {json}) > 0",
        json = format!(
            "'{}'",
            serde_json::to_string(secret)
                .unwrap_or_default()
                .trim_matches('"')
                .replace('\'', "''")
        ),
    ))
    .await
}

#[tokio::test]
async fn a_password_in_path_form_is_not_logged() {
    let app = spawn_app().await;
    let user = app.create_user("pathform@example.com").await;
    let secret = "pAth-F0rm-s3cret";
    app.patch(
        &format!("/Users/{user}"),
        &patch_body(json!([{"op": "replace", "path": "password", "value": secret}])),
    )
    .await
    .assert_status(200);
    let events = app.events().await;
    let patch = events
        .iter()
        .find(|e| e["method"] == "PATCH")
        .expect("the PATCH was logged");
    assert_eq!(patch["payload"]["Operations"][0]["value"], "[redacted]");
    assert!(traces(&app, secret).await.is_empty());
}

#[tokio::test]
async fn no_generated_request_puts_a_password_into_the_database() {
    let app = spawn_app().await;
    let user = app.create_user("target@example.com").await;
    let mut runner = TestRunner::new(Config {
        cases: 120,
        ..Config::default()
    });
    let cases = (position(), secret());
    let mut sent = Vec::new();
    for n in 0..120 {
        let (position, secret) = cases
            .new_tree(&mut runner)
            .expect("a generated case")
            .current();
        let status = send(&app, &user, &position, &secret, n).await;
        assert!(status < 500, "{position:?} answered {status}");
        sent.push((position, secret));
    }
    // Reads and failures are logged in the background: wait until every request is.
    app.wait_for_events(sent.len() + 1).await;
    for (position, secret) in &sent {
        let found = traces(&app, secret).await;
        assert!(
            found.is_empty(),
            "{position:?} left {secret:?} in the database: {found:?}"
        );
    }
    // The requests were really logged (the test would pass trivially otherwise).
    let logged = app.events().await;
    assert!(logged.len() > sent.len(), "{} events", logged.len());
    let methods: Vec<&str> = logged.iter().filter_map(|e| e["method"].as_str()).collect();
    for method in [Method::POST, Method::PUT, Method::PATCH, Method::GET] {
        assert!(methods.contains(&method.as_str()), "{methods:?}");
    }
}
