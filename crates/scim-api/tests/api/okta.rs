//! Okta replay: the requests Okta's "SCIM 2.0 Test App (OAuth Bearer Token)" sends, with the
//! payloads of Okta's SCIM 2.0 reference, in the order Okta sends them.

use serde_json::{Value, json};

use crate::helpers::{LIST_SCHEMA, USER_SCHEMA, encode, redacted, spawn_app};

/// Okta's create-user payload (Okta SCIM 2.0 reference, "Create the User").
pub fn okta_user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {
            "givenName": "Test",
            "familyName": "User"
        },
        "emails": [{
            "primary": true,
            "value": user_name,
            "type": "work"
        }],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

/// Okta's lookup before create: `filter=userName eq "…"&startIndex=1&count=100`.
fn lookup(user_name: &str) -> String {
    format!(
        "/Users?filter={}&startIndex=1&count=100",
        encode(&format!("userName eq \"{user_name}\""))
    )
}

#[tokio::test]
async fn lookup_then_create_returns_the_user_with_location_and_no_password() {
    let app = spawn_app().await;

    let found = app.get(&lookup("test.user@okta.local")).await;
    found.assert_status(200);
    assert_eq!(
        found.json,
        json!({"schemas": [LIST_SCHEMA], "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []})
    );

    let created = app.post("/Users", &okta_user("test.user@okta.local")).await;
    created.assert_status(201);
    let id = created.id();
    assert_eq!(
        created.header("location").as_deref(),
        Some(created.str_at("/meta/location").as_str())
    );
    assert_eq!(
        created.str_at("/meta/location"),
        format!("{}/Users/{id}", app.base())
    );
    assert_eq!(
        created.header("content-type").as_deref(),
        Some("application/scim+json")
    );
    assert_eq!(
        redacted(&created.json),
        json!({
            "schemas": [USER_SCHEMA],
            "id": "[id]",
            "userName": "test.user@okta.local",
            "name": {"givenName": "Test", "familyName": "User"},
            "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
            "displayName": "Test User",
            "locale": "en-US",
            "externalId": "00ujl29u0le5T6Aj10h7",
            "active": true,
            "meta": "[meta]"
        })
    );
    assert_eq!(created.json["meta"]["resourceType"], "User");
    assert_eq!(
        created.header("etag").as_deref(),
        Some(created.str_at("/meta/version").as_str())
    );
    assert!(!created.text.contains("1mz050nq"));
    let row = app.user_row(&id).await.expect("stored user");
    assert!(
        !row.to_string().contains("1mz050nq") && !row.to_string().contains("password"),
        "the password must never be stored: {row}"
    );

    let found = app.get(&lookup("test.user@okta.local")).await;
    found.assert_status(200);
    assert_eq!(found.total(), 1);
    assert_eq!(found.json["itemsPerPage"], 1);
    assert_eq!(found.resources()[0]["id"], json!(id));
}

#[tokio::test]
async fn lookup_is_case_insensitive_and_create_of_an_existing_user_conflicts() {
    let app = spawn_app().await;
    app.post("/Users", &okta_user("Test.User@Okta.local"))
        .await
        .assert_status(201);

    let found = app.get(&lookup("test.user@okta.local")).await;
    assert_eq!(found.total(), 1);
    assert_eq!(
        found.resources()[0]["userName"],
        "Test.User@Okta.local",
        "the stored userName keeps the case it was sent in"
    );

    let again = app.post("/Users", &okta_user("test.user@okta.local")).await;
    again.assert_scim_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn get_then_put_updates_the_whole_user() {
    let app = spawn_app().await;
    let id = app
        .post("/Users", &okta_user("test.user@okta.local"))
        .await
        .id();

    let fetched = app.get(&format!("/Users/{id}")).await;
    fetched.assert_status(200);
    assert_eq!(fetched.json["userName"], "test.user@okta.local");

    // Okta's "Update a specific User (PUT)": the GET result with changed profile values.
    let put = app
        .put(
            &format!("/Users/{id}"),
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": id,
                "userName": "test.user@okta.local",
                "name": {"givenName": "Another", "familyName": "User"},
                "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
                "displayName": "Another User",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "groups": [],
                "password": "1mz050nq",
                "active": true,
                "meta": fetched.json["meta"].clone()
            }),
        )
        .await;
    put.assert_status(200);
    assert_eq!(put.json["name"]["givenName"], "Another");
    assert_eq!(put.json["displayName"], "Another User");
    assert_ne!(put.json["meta"]["version"], fetched.json["meta"]["version"]);
    assert!(!put.text.contains("1mz050nq"));

    let after = app.get(&format!("/Users/{id}")).await;
    assert_eq!(after.json["displayName"], "Another User");
    assert_eq!(
        after.json["meta"]["created"],
        fetched.json["meta"]["created"]
    );
    let row = app.user_row(&id).await.expect("stored user");
    assert!(!row.to_string().contains("1mz050nq"), "{row}");
}

#[tokio::test]
async fn patch_deactivates_and_reactivates() {
    let app = spawn_app().await;
    let id = app
        .post("/Users", &okta_user("test.user@okta.local"))
        .await
        .id();
    // The user is signed in (OpenID) when Okta deactivates them.
    app.execute(&format!(
        "INSERT INTO sessions (tenant_id, token_hash, user_id, csrf_token, expires_at) \
         VALUES ('{}', '\\x01', '{id}', 'csrf', now() + interval '1 hour')",
        app.tenant
    ))
    .await;
    let sessions =
        format!("SELECT to_jsonb(count(*)) AS json FROM sessions WHERE user_id = '{id}'");
    assert_eq!(app.query_json(&sessions).await, vec![json!(1)]);

    let off = app
        .patch_ops(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .await;
    off.assert_status(200);
    assert_eq!(off.json["active"], false);
    assert_eq!(off.json["userName"], "test.user@okta.local");
    assert_eq!(app.get(&format!("/Users/{id}")).await.json["active"], false);
    let row = app.user_row(&id).await.expect("row");
    assert_eq!(row["active"], false);
    assert!(row["deactivated_at"].is_string());
    assert_eq!(
        app.query_json(&sessions).await,
        vec![json!(0)],
        "deactivation ends the user's sessions at once"
    );

    let on = app
        .patch_ops(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "value": {"active": true}}]),
        )
        .await;
    on.assert_status(200);
    assert_eq!(on.json["active"], true);
    let row = app.user_row(&id).await.expect("row");
    assert_eq!(row["active"], true);
    assert!(row["deactivated_at"].is_null());
    // The data is kept through deactivation.
    assert_eq!(on.json["name"]["givenName"], "Test");
}

#[tokio::test]
async fn password_push_is_accepted_but_never_stored() {
    let app = spawn_app().await;
    let id = app
        .post("/Users", &okta_user("test.user@okta.local"))
        .await
        .id();

    let response = app
        .patch_ops(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "value": {"password": "t1meMa$heen"}}]),
        )
        .await;
    response.assert_status(200);
    assert!(!response.text.contains("t1meMa$heen"), "{}", response.text);
    let row = app.user_row(&id).await.expect("row");
    assert!(!row.to_string().contains("t1meMa$heen"), "{row}");
}

#[tokio::test]
async fn import_pages_through_users_one_at_a_time() {
    let app = spawn_app().await;
    let mut expected = Vec::new();
    for i in 0..5 {
        expected.push(app.create_user(&format!("user{i}@okta.local")).await);
    }
    expected.sort();

    let mut seen = Vec::new();
    let mut start = 1;
    loop {
        let page = app.get(&format!("/Users?startIndex={start}&count=1")).await;
        page.assert_status(200);
        assert_eq!(page.total(), 5, "{}", page.text);
        assert_eq!(page.json["startIndex"], json!(start));
        let resources = page.resources();
        assert_eq!(page.json["itemsPerPage"], json!(resources.len()));
        if resources.is_empty() {
            break;
        }
        assert_eq!(resources.len(), 1);
        seen.push(resources[0]["id"].as_str().unwrap_or_default().to_owned());
        start += 1;
    }
    assert_eq!(start, 6, "the walk ends after the last user");
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, expected, "every user exactly once");

    let groups = app.get("/Groups?startIndex=1&count=100").await;
    groups.assert_status(200);
    assert_eq!(groups.total(), 0);
}

#[tokio::test]
async fn test_credentials_probe_lists_users_and_groups() {
    let app = spawn_app().await;
    app.create_user("a@okta.local").await;
    app.create_user("b@okta.local").await;
    // "Test API Credentials": GET /Users?count=2&startIndex=1 and GET /Groups?count=100&startIndex=1.
    let users = app.get("/Users?count=2&startIndex=1").await;
    users.assert_status(200);
    assert_eq!(users.json["schemas"], json!([LIST_SCHEMA]));
    assert_eq!(users.resources().len(), 2);
    assert_eq!(users.json["itemsPerPage"], 2);
    assert_eq!(users.total(), 2);
    let groups = app.get("/Groups?count=100&startIndex=1").await;
    groups.assert_status(200);
    assert_eq!(groups.json["itemsPerPage"], 0);
}

#[tokio::test]
async fn negative_probes_non_token_and_unknown_id() {
    let app = spawn_app().await;

    let probe = app.with_authorization(Some("non-token"));
    let response = probe.get("/Users?count=1&startIndex=1").await;
    response.assert_scim_error(401, None);
    let challenge = response.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge}");

    let response = app.get("/Users/00919288221112222").await;
    response.assert_scim_error(404, None);
    let response = app.get("/Groups/00919288221112222").await;
    response.assert_scim_error(404, None);
    let response = app.get("/Users/4d3c8cc6-2b6f-4c26-9c0c-2c3b0cbbd3a5").await;
    response.assert_scim_error(404, None);
}
