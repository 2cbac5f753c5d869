//! HTTP-level protocol edges shared by every endpoint: media types, malformed and oversized
//! bodies, PATCH errors, ETags and `If-Match`, attribute projection, and inputs that must never
//! produce a server error.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{ENTERPRISE, USER_SCHEMA, spawn_app};

#[tokio::test]
async fn malformed_json_is_400_invalid_syntax() {
    let app = spawn_app().await;
    for body in ["{\"userName\": ", "not json", "", "[1, 2]", "\"text\""] {
        let response = app
            .send(Method::POST, "/Users", Some(body.to_owned()), &[])
            .await;
        response.assert_scim_error(400, Some("invalidSyntax"));
    }
    let id = app.create_user("a@example.com").await;
    app.send(
        Method::PATCH,
        &format!("/Users/{id}"),
        Some("{\"Operations\": [".into()),
        &[],
    )
    .await
    .assert_scim_error(400, Some("invalidSyntax"));
    app.send(
        Method::PUT,
        &format!("/Users/{id}"),
        Some("{oops}".into()),
        &[],
    )
    .await
    .assert_scim_error(400, Some("invalidSyntax"));
}

#[tokio::test]
async fn application_json_and_charset_are_accepted() {
    let app = spawn_app().await;
    for (i, content_type) in [
        "application/json",
        "application/scim+json; charset=utf-8",
        "application/json; charset=UTF-8",
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"schemas": [USER_SCHEMA], "userName": format!("ct{i}@example.com")});
        let response = app
            .send(
                Method::POST,
                "/Users",
                Some(body.to_string()),
                &[("Content-Type", content_type), ("Accept", "*/*")],
            )
            .await;
        response.assert_status(201);
    }
}

#[tokio::test]
async fn a_missing_accept_header_is_fine() {
    let app = spawn_app().await;
    let response = reqwest::Client::new()
        .get(format!("{}/Users", app.base()))
        .header("Authorization", format!("Bearer {}", app.token))
        .send()
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/scim+json")
    );
}

#[tokio::test]
async fn etag_header_is_meta_version_and_if_match_is_enforced() {
    let app = spawn_app().await;
    let id = app.create_user("etag@example.com").await;
    let path = format!("/Users/{id}");
    let fetched = app.get(&path).await;
    let version = fetched.str_at("/meta/version");
    assert!(version.starts_with("W/\""), "{version}");
    assert_eq!(fetched.header("etag").as_deref(), Some(version.as_str()));

    let body =
        json!({"schemas": [USER_SCHEMA], "userName": "etag@example.com", "displayName": "E"});
    let stale = app
        .send(
            Method::PUT,
            &path,
            Some(body.to_string()),
            &[("If-Match", "W/\"999\"")],
        )
        .await;
    stale.assert_scim_error(412, None);

    let ok = app
        .send(
            Method::PUT,
            &path,
            Some(body.to_string()),
            &[("If-Match", version.as_str())],
        )
        .await;
    ok.assert_status(200);
    let new_version = ok.str_at("/meta/version");
    assert_ne!(new_version, version);
    assert_eq!(ok.header("etag").as_deref(), Some(new_version.as_str()));

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": "F"}]});
    app.send(
        Method::PATCH,
        &path,
        Some(patch.to_string()),
        &[("If-Match", version.as_str())],
    )
    .await
    .assert_scim_error(412, None);
    app.send(
        Method::PATCH,
        &path,
        Some(patch.to_string()),
        &[("If-Match", new_version.as_str())],
    )
    .await
    .assert_status(200);
    assert_eq!(app.get(&path).await.json["displayName"], "F");

    app.send(
        Method::DELETE,
        &path,
        None,
        &[("If-Match", version.as_str())],
    )
    .await
    .assert_scim_error(412, None);
    app.send(Method::DELETE, &path, None, &[("If-Match", "*")])
        .await
        .assert_status(204);
}

#[tokio::test]
async fn attributes_and_excluded_attributes_project_the_response() {
    let app = spawn_app().await;
    let body = json!({
        "schemas": [USER_SCHEMA, ENTERPRISE],
        "userName": "proj@example.com",
        "displayName": "Pro J",
        "name": {"givenName": "Pro", "familyName": "J"},
        "emails": [{"value": "proj@example.com", "type": "work", "primary": true}],
        ENTERPRISE: {"department": "R&D", "employeeNumber": "7"}
    });
    let id = app.post("/Users", &body).await.id();

    let only = app
        .get(&format!(
            "/Users/{id}?attributes=userName,name.givenName,{ENTERPRISE}:department"
        ))
        .await;
    only.assert_status(200);
    let keys: std::collections::BTreeSet<&str> = only
        .json
        .as_object()
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        keys,
        ["id", "meta", "name", "schemas", "userName", ENTERPRISE]
            .into_iter()
            .collect()
    );
    assert_eq!(only.json["name"], json!({"givenName": "Pro"}));
    assert_eq!(only.json[ENTERPRISE], json!({"department": "R&D"}));

    let without = app
        .get("/Users?excludedAttributes=emails,name&filter=userName%20eq%20%22proj@example.com%22")
        .await;
    without.assert_status(200);
    let user = &without.resources()[0];
    assert!(user.get("emails").is_none() && user.get("name").is_none());
    assert_eq!(user["displayName"], "Pro J");
    assert_eq!(user["id"], json!(id), "id is always returned");
}

#[tokio::test]
async fn body_over_the_limit_is_413_scim_error() {
    let app = spawn_app().await;
    let big = "x".repeat(4 * 1024 * 1024 + 16);
    let body = format!(
        "{{\"schemas\": [\"{USER_SCHEMA}\"], \"userName\": \"big\", \"notes\": \"{big}\"}}"
    );
    let response = app.send(Method::POST, "/Users", Some(body), &[]).await;
    response.assert_scim_error(413, None);
    assert_eq!(app.get("/Users").await.total(), 0);
}

#[tokio::test]
async fn patch_errors_are_scim_errors_and_change_nothing() {
    let app = spawn_app().await;
    let id = app.create_user("p@example.com").await;
    let path = format!("/Users/{id}");
    let before = app.get(&path).await;
    app.patch_ops(
        &path,
        json!([{"op": "replace", "path": "nosuchattr.x", "value": "y"}, {"op": "replace", "path": "displayName", "value": "Z"}]),
    )
    .await
    .assert_scim_error(400, Some("invalidPath"));
    app.patch_ops(
        &path,
        json!([{"op": "replace", "path": "displayName", "value": "Z"}, {"op": "remove", "path": "userName"}]),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    app.patch_ops(
        &path,
        json!([{"op": "replace", "path": "emails[type eq \"home\"].value", "value": "h@example.com"}]),
    )
    .await
    .assert_scim_error(400, Some("noTarget"));
    app.patch_ops(
        &path,
        json!([{"op": "jump", "path": "displayName", "value": "Z"}]),
    )
    .await
    .assert_scim_error(400, Some("invalidSyntax"));
    app.patch(
        &path,
        &json!({"Operations": [{"op": "replace", "path": "displayName", "value": "Z"}]}),
    )
    .await
    .assert_scim_error(400, Some("invalidSyntax"));
    app.patch_ops(
        &path,
        json!([{"op": "replace", "path": "emails[type eq", "value": "Z"}]),
    )
    .await
    .assert_scim_error(400, Some("invalidPath"));
    let after = app.get(&path).await;
    assert_eq!(after.json, before.json, "a failed PATCH changes nothing");
}

#[tokio::test]
async fn odd_inputs_are_answered_without_a_server_error() {
    let app = spawn_app().await;
    let user = app.create_user("odd@example.com").await;
    let group = app.create_group("Odd", &[&user]).await;
    let deep = format!("{}1{}", "[".repeat(5000), "]".repeat(5000));
    let requests: Vec<(Method, String, Option<String>)> = vec![
        (Method::POST, "/Users".into(), Some("null".into())),
        (Method::POST, "/Users".into(), Some(deep.clone())),
        (Method::POST, "/Users".into(), Some(r#"{"schemas": 5, "userName": "x"}"#.into())),
        (Method::POST, "/Users".into(), Some(r#"{"userName": "y", "emails": "nope"}"#.into())),
        (Method::POST, "/Users".into(), Some(r#"{"userName": "z", "name": [1, 2]}"#.into())),
        (Method::POST, "/Users".into(), Some(format!(r#"{{"userName": "{}"}}"#, "u".repeat(600)))),
        (Method::POST, "/Users".into(), Some(r#"{"userName": "nul\u0000byte"}"#.into())),
        (Method::POST, "/Groups".into(), Some(r#"{"displayName": "g", "members": "all"}"#.into())),
        (Method::POST, "/Groups".into(), Some(r#"{"displayName": "g", "members": [{"value": 7}]}"#.into())),
        (Method::POST, "/Groups".into(), Some(r#"{"displayName": ["g"]}"#.into())),
        (
            Method::PATCH,
            format!("/Users/{user}"),
            Some(r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "emails", "value": "notarray"}]}"#.into()),
        ),
        (
            Method::PATCH,
            format!("/Users/{user}"),
            Some(r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "name", "value": 3}]}"#.into()),
        ),
        (
            Method::PATCH,
            format!("/Users/{user}"),
            Some(r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": "replace"}"#.into()),
        ),
        (
            Method::PATCH,
            format!("/Users/{user}"),
            Some(r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "userName", "value": null}]}"#.into()),
        ),
        (
            Method::PATCH,
            format!("/Groups/{group}"),
            Some(r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "path": "members", "value": [{"display": "no value"}]}]}"#.into()),
        ),
        (
            Method::PATCH,
            format!("/Groups/{group}"),
            Some(r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "remove", "path": "members[display eq \"x\"]"}]}"#.into()),
        ),
        (
            Method::PATCH,
            format!("/Groups/{group}"),
            Some(r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "replace", "path": "displayName", "value": ""}]}"#.into()),
        ),
        (Method::PUT, format!("/Groups/{group}"), Some(r#"{"displayName": "Odd", "members": {"value": "x"}}"#.into())),
        (Method::GET, "/Users?startIndex=1e3".into(), None),
        (Method::GET, "/Users?count=%20".into(), None),
        (Method::GET, "/Users?startIndex=99999999999999999999".into(), None),
        (Method::GET, "/Users?startIndex=9223372036854775807&count=1000".into(), None),
        (Method::GET, "/Users?filter=userName%20eq%20%22%F0%9F%98%80%22".into(), None),
        (Method::GET, "/Users?filter=%ZZ".into(), None),
        (Method::GET, "/Users?filter=userName%20eq%20%22a%00b%22".into(), None),
        (Method::GET, "/Users?sortBy=user%00Name".into(), None),
        (
            Method::PATCH,
            format!("/Users/{user}"),
            Some(r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{"op": "add", "value": {"nick\u0000Name": "x"}}]}"#.into()),
        ),
        (Method::GET, "/Users?filter=meta.created%20gt%20%2210000-01-01T00:00:00Z%22".into(), None),
        (Method::GET, "/Users?filter=emails.value%20gt%205".into(), None),
        (Method::GET, "/Users?filter=name%20eq%20%22x%22".into(), None),
        (Method::GET, "/Users?filter=urn:x:y:z%20eq%20%22x%22".into(), None),
        (Method::GET, "/Users?sortBy=emails.value".into(), None),
        (Method::GET, "/Users?attributes=%5B%5D,,,".into(), None),
        (Method::GET, "/Users/%00".into(), None),
        (Method::GET, format!("/Users/{}", "9".repeat(3000)), None),
        (Method::GET, "/Groups?filter=members%5Bvalue%20eq%20%22x%22%5D".into(), None),
    ];
    for (method, path, body) in requests {
        let shown: String = body.iter().flat_map(|b| b.chars().take(120)).collect();
        let response = app.send(method.clone(), &path, body, &[]).await;
        assert!(
            response.status < 500,
            "{method} {path} {shown}: {} {}",
            response.status,
            response.text
        );
        if response.status >= 400 {
            response.assert_scim_error(response.status, response.json["scimType"].as_str());
        }
    }
    // The user and group are intact.
    assert_eq!(
        app.get(&format!("/Users/{user}")).await.json["userName"],
        "odd@example.com"
    );
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(g.json["displayName"], "Odd");
    assert_eq!(g.json["members"][0]["value"], serde_json::json!(user));
}
