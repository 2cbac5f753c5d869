//! The provisioning activity log: one `provisioning_events` row per authenticated request, with
//! method, path, status, resource, token, duration, the error in words, and the payload with
//! secrets removed.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{TestApp, USER_SCHEMA, spawn_app};

/// The token id of the app's token.
async fn token_id(app: &TestApp) -> Value {
    app.query_json(&format!(
        "SELECT to_jsonb(id::text) AS json FROM scim_tokens WHERE tenant_id = '{}'",
        app.tenant
    ))
    .await
    .into_iter()
    .next()
    .expect("token")
}

#[tokio::test]
async fn a_create_records_its_event_with_the_password_redacted() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/Users",
            &json!({
                "schemas": [USER_SCHEMA],
                "userName": "logged@example.com",
                "password": "hunter2-secret",
                "name": {"givenName": "Log"}
            }),
        )
        .await;
    created.assert_status(201);
    let id = created.id();
    // A successful write's event is committed with the write: no waiting needed.
    let events = app.events().await;
    assert_eq!(events.len(), 1, "{events:?}");
    let event = &events[0];
    assert_eq!(event["method"], "POST");
    assert_eq!(event["path"], "/Users");
    assert_eq!(event["status"], 201);
    assert_eq!(event["resource_type"], "User");
    assert_eq!(event["resource_id"], json!(id));
    assert_eq!(event["token_id"], token_id(&app).await);
    assert!(event["error"].is_null());
    assert!(
        event["duration_us"].as_i64().is_some_and(|d| d > 0),
        "{event}"
    );
    assert_eq!(event["payload"]["password"], "[redacted]");
    assert_eq!(event["payload"]["userName"], "logged@example.com");
    assert!(!event.to_string().contains("hunter2-secret"));
}

#[tokio::test]
async fn every_authenticated_request_records_exactly_one_event() {
    let app = spawn_app().await;
    let id = app.create_user("one@example.com").await;
    let group = app.create_group("G", &[&id]).await;
    let requests: Vec<(Method, String, Option<Value>, u16)> = vec![
        (Method::GET, format!("/Users/{id}"), None, 200),
        (
            Method::GET,
            "/Users?filter=userName%20eq%20%22one%40example.com%22".into(),
            None,
            200,
        ),
        (
            Method::PATCH,
            format!("/Users/{id}"),
            Some(
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "value": {"password": "p4ss-word!", "active": false}}]}),
            ),
            200,
        ),
        (
            Method::PUT,
            format!("/Users/{id}"),
            Some(json!({"schemas": [USER_SCHEMA], "userName": "one@example.com"})),
            200,
        ),
        (Method::GET, format!("/Groups/{group}"), None, 200),
        (Method::GET, "/ServiceProviderConfig".into(), None, 200),
        (Method::DELETE, format!("/Groups/{group}"), None, 204),
        (Method::GET, "/Users/00919288221112222".into(), None, 404),
        (
            Method::POST,
            "/Users".into(),
            Some(
                json!({"schemas": [USER_SCHEMA], "userName": "ONE@example.com", "password": "dup-secret"}),
            ),
            409,
        ),
        (
            Method::GET,
            "/Users?filter=userName%20zz%20%22x%22".into(),
            None,
            400,
        ),
    ];
    let before = app.events().await.len();
    assert_eq!(before, 2, "create user and create group");
    for (method, path, body, status) in &requests {
        let response = app
            .send(
                method.clone(),
                path,
                body.as_ref().map(Value::to_string),
                &[],
            )
            .await;
        response.assert_status(*status);
    }
    let expected = before + requests.len();
    let events = app.wait_for_events(expected).await;
    // Give a wrongly doubled event time to show up.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let events_after = app.events().await;
    assert_eq!(events_after.len(), expected, "{events_after:#?}");
    assert_eq!(events.len(), expected);

    let mut recorded: Vec<(String, String, i64)> = events_after[before..]
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap_or_default().to_owned(),
                e["path"].as_str().unwrap_or_default().to_owned(),
                e["status"].as_i64().unwrap_or_default(),
            )
        })
        .collect();
    let mut sent: Vec<(String, String, i64)> = requests
        .iter()
        .map(|(m, p, _, s)| (m.to_string(), p.clone(), i64::from(*s)))
        .collect();
    // Reads are written by the batch writer, so their order relative to writes may differ.
    recorded.sort();
    sent.sort();
    assert_eq!(recorded, sent);

    let find = |method: &str, status: i64| {
        events_after
            .iter()
            .find(|e| e["method"] == method && e["status"] == status)
            .cloned()
            .unwrap_or_else(|| panic!("no {method} {status} event"))
    };
    let not_found = find("GET", 404);
    assert_eq!(not_found["resource_type"], "User");
    assert_eq!(not_found["resource_id"], "00919288221112222");
    assert!(
        not_found["error"]
            .as_str()
            .is_some_and(|e| e.contains("not found")),
        "{not_found}"
    );
    let conflict = find("POST", 409);
    assert!(
        conflict["error"]
            .as_str()
            .is_some_and(|e| e.contains("userName")),
        "{conflict}"
    );
    assert_eq!(conflict["payload"]["password"], "[redacted]");
    let bad_filter = find("GET", 400);
    assert!(bad_filter["error"].as_str().is_some_and(|e| !e.is_empty()));
    let patch = find("PATCH", 200);
    assert_eq!(patch["resource_id"], json!(id));
    assert_eq!(
        patch["payload"]["Operations"][0]["value"]["password"],
        "[redacted]"
    );
    let delete = find("DELETE", 204);
    assert_eq!(delete["resource_type"], "Group");
    assert_eq!(delete["resource_id"], json!(group));
    let config = find("GET", 200);
    assert!(config["duration_us"].as_i64().is_some());
    for event in &events_after {
        let text = event.to_string();
        assert!(
            !text.contains("p4ss-word!") && !text.contains("dup-secret"),
            "{text}"
        );
    }
}

#[tokio::test]
async fn a_forbidden_request_is_recorded_as_the_tenant_s() {
    let app = spawn_app().await;
    app.execute(&format!(
        "UPDATE tenants SET scim_enabled = false WHERE id = '{}'",
        app.tenant
    ))
    .await;
    app.get("/Users").await.assert_status(403);
    let events = app.wait_for_events(1).await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["status"], 403);
    assert!(
        events[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("not enabled"))
    );
}

#[tokio::test]
async fn authenticated_requests_update_the_token_last_use_at_most_once_a_minute() {
    let app = spawn_app().await;
    let age_sql = format!(
        "SELECT to_jsonb(extract(epoch FROM now() - last_used_at)) AS json FROM scim_tokens WHERE tenant_id = '{}'",
        app.tenant
    );
    app.get("/Users").await.assert_status(200);
    let age = app.query_json(&age_sql).await;
    assert!(
        age[0].as_f64().is_some_and(|s| s < 5.0),
        "first use recorded: {age:?}"
    );

    // The server checks a remembered token against the database again after a minute; the
    // announcement stands in for that minute so the test need not wait it out.
    app.execute(&format!(
        "WITH aged AS (UPDATE scim_tokens SET last_used_at = now() - interval '2 minutes'
         WHERE tenant_id = '{}' RETURNING tenant_id)
         SELECT pg_notify('insights_scim_auth', tenant_id::text) FROM aged",
        app.tenant
    ))
    .await;
    app.get("/ServiceProviderConfig").await.assert_status(200);
    let age = app.query_json(&age_sql).await;
    assert!(
        age[0].as_f64().is_some_and(|s| s < 5.0),
        "refreshed after a minute: {age:?}"
    );

    app.execute(&format!(
        "WITH aged AS (UPDATE scim_tokens SET last_used_at = now() - interval '30 seconds'
         WHERE tenant_id = '{}' RETURNING tenant_id)
         SELECT pg_notify('insights_scim_auth', tenant_id::text) FROM aged",
        app.tenant
    ))
    .await;
    app.get("/Users").await.assert_status(200);
    let age = app.query_json(&age_sql).await;
    assert!(
        age[0].as_f64().is_some_and(|s| s > 25.0),
        "not rewritten within the minute: {age:?}"
    );
}
