//! Tenant isolation and authentication: nothing of one tenant is visible or changeable with
//! another's token; bad, revoked and expired tokens; tenants that may not use SCIM; and no
//! reads or writes at all for an unauthenticated request.

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::json;

use crate::helpers::{GROUP_SCHEMA, TestApp, USER_SCHEMA, filter_query, spawn_app};

#[tokio::test]
async fn nothing_of_tenant_a_is_visible_or_changeable_with_tenant_b_token() {
    let app = spawn_app().await;
    let a_user = app.create_user("shared@example.com").await;
    let a_group = app.create_group("Shared", &[&a_user]).await;
    let (_, b) = app.other_tenant("Beta").await;

    // The same userName and group name are fine in B.
    let b_user = b
        .post(
            "/Users",
            &json!({"schemas": [USER_SCHEMA], "userName": "SHARED@example.com"}),
        )
        .await;
    b_user.assert_status(201);
    let b_user = b_user.id();
    let b_group = b
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "shared"}),
        )
        .await;
    b_group.assert_status(201);
    let b_group = b_group.id();

    // By id.
    b.get(&format!("/Users/{a_user}"))
        .await
        .assert_scim_error(404, None);
    b.get(&format!("/Groups/{a_group}"))
        .await
        .assert_scim_error(404, None);
    b.put(
        &format!("/Users/{a_user}"),
        &json!({"schemas": [USER_SCHEMA], "userName": "stolen@example.com"}),
    )
    .await
    .assert_scim_error(404, None);
    b.patch_ops(
        &format!("/Users/{a_user}"),
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .assert_scim_error(404, None);
    b.patch_ops(
        &format!("/Groups/{a_group}"),
        json!([{"op": "remove", "path": "members"}]),
    )
    .await
    .assert_scim_error(404, None);
    b.delete(&format!("/Users/{a_user}"))
        .await
        .assert_scim_error(404, None);
    b.delete(&format!("/Groups/{a_group}"))
        .await
        .assert_scim_error(404, None);

    // By filter and listing.
    let listed = b.get("/Users").await;
    assert_eq!(listed.total(), 1);
    assert_eq!(listed.resources()[0]["id"], json!(b_user));
    for filter in [
        format!("id eq \"{a_user}\""),
        "userName eq \"shared@example.com\"".to_owned(),
        format!("groups.value eq \"{a_group}\""),
    ] {
        let found = b.get(&format!("/Users?{}", filter_query(&filter))).await;
        assert!(
            found.resources().iter().all(|u| u["id"] != json!(a_user)),
            "{filter}: {}",
            found.text
        );
    }
    let found = b
        .get(&format!(
            "/Groups?{}",
            filter_query(&format!("members.value eq \"{a_user}\""))
        ))
        .await;
    assert_eq!(found.total(), 0);

    // By member reference: A's user cannot join B's group.
    b.patch_ops(
        &format!("/Groups/{b_group}"),
        json!([{"op": "add", "path": "members", "value": [{"value": a_user}]}]),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    b.post(
        "/Groups",
        &json!({"schemas": [GROUP_SCHEMA], "displayName": "Sneaky", "members": [{"value": a_user}]}),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    b.put(
        &format!("/Groups/{b_group}"),
        &json!({"schemas": [GROUP_SCHEMA], "displayName": "shared", "members": [{"value": a_user}]}),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));

    // A is untouched.
    let user = app.get(&format!("/Users/{a_user}")).await;
    assert_eq!(user.json["userName"], "shared@example.com");
    assert_ne!(user.json["active"], false);
    assert_eq!(app.user_row(&a_user).await.expect("row")["active"], true);
    let group = app.get(&format!("/Groups/{a_group}")).await;
    assert_eq!(group.json["members"][0]["value"], json!(a_user));
    assert_eq!(app.get("/Users").await.total(), 1);
}

#[tokio::test]
async fn a_token_of_tenant_a_on_tenant_b_url_is_401() {
    let app = spawn_app().await;
    let (b_tenant, _) = app.other_tenant("Beta").await;
    let response = app
        .on_tenant_path(&b_tenant.to_string())
        .get("/Users")
        .await;
    response.assert_scim_error(401, None);
    assert!(
        response
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer"))
    );
    let response = app.on_tenant_path("not-a-tenant").get("/Users").await;
    response.assert_scim_error(401, None);
}

#[tokio::test]
async fn missing_malformed_and_unknown_tokens_are_401() {
    let app = spawn_app().await;
    for authorization in [
        None,
        Some("non-token"),
        Some("Bearer"),
        Some("Bearer "),
        Some("Basic dXNlcjpwYXNz"),
        Some("Bearer scim_thisIsNotARealTokenButHasTheRightShape12345"),
    ] {
        let response = app.with_authorization(authorization).get("/Users").await;
        response.assert_scim_error(401, None);
        assert!(
            response
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{authorization:?}"
        );
    }
    // Lower-case scheme is fine (RFC 6750 schemes are case-insensitive).
    app.with_authorization(Some(&format!("bearer {}", app.token)))
        .get("/Users")
        .await
        .assert_status(200);
}

#[tokio::test]
async fn revoked_and_expired_tokens_are_401_with_the_reason() {
    let app = spawn_app().await;
    let tenant = app.tenant;
    let (revoked, expired) = app
        .db()
        .run(tenant, move |conn| {
            let old = tenancy::scim_tokens::issue(conn, tenant, Utc::now(), Duration::days(7))?;
            tenancy::scim_tokens::revoke(conn, tenant, old.record.id, Utc::now())?;
            let ancient = tenancy::scim_tokens::issue(
                conn,
                tenant,
                Utc::now() - Duration::days(400),
                Duration::days(7),
            )?;
            Ok::<_, tenancy::Error>((old.token, ancient.token))
        })
        .await
        .expect("tokens");

    let response = app
        .with_authorization(Some(&format!("Bearer {revoked}")))
        .get("/Users")
        .await;
    let detail = response.assert_scim_error(401, None);
    assert!(detail.contains("revoked"), "{detail}");

    let response = app
        .with_authorization(Some(&format!("Bearer {expired}")))
        .get("/Users")
        .await;
    let detail = response.assert_scim_error(401, None);
    assert!(detail.contains("expired"), "{detail}");
}

#[tokio::test]
async fn tenant_without_scim_or_with_password_sign_in_is_403() {
    let app = spawn_app().await;
    app.execute(&format!(
        "UPDATE tenants SET scim_enabled = false WHERE id = '{}'",
        app.tenant
    ))
    .await;
    let response = app.get("/Users").await;
    let detail = response.assert_scim_error(403, None);
    assert!(detail.contains("not enabled"), "{detail}");
    app.post(
        "/Users",
        &json!({"schemas": [USER_SCHEMA], "userName": "x@example.com"}),
    )
    .await
    .assert_scim_error(403, None);

    app.execute(&format!(
        "UPDATE tenants SET scim_enabled = true, auth_type = 'password' WHERE id = '{}'",
        app.tenant
    ))
    .await;
    let response = app.get("/ServiceProviderConfig").await;
    let detail = response.assert_scim_error(403, None);
    assert!(detail.contains("OpenID"), "{detail}");
    let users = app
        .query_json("SELECT to_jsonb(count(*)) AS json FROM users")
        .await;
    assert_eq!(users, vec![json!(0)], "nothing was written");
}

#[tokio::test]
async fn unauthenticated_requests_read_and_write_nothing() {
    let app = spawn_app().await;
    let id = app.create_user("kept@example.com").await;
    // Let the token's first use settle, then note what is stored.
    let before_events = app.wait_for_events(1).await.len();
    let tokens_before = token_state(&app).await;

    let (other, _) = app.other_tenant("Beta").await;
    let strangers = [
        app.with_authorization(None),
        app.with_authorization(Some("non-token")),
        app.with_authorization(Some(
            "Bearer scim_thisIsNotARealTokenButHasTheRightShape12345",
        )),
        app.on_tenant_path(&other.to_string()),
    ];
    for stranger in &strangers {
        stranger
            .post(
                "/Users",
                &json!({"schemas": [USER_SCHEMA], "userName": "intruder@example.com"}),
            )
            .await
            .assert_scim_error(401, None);
        stranger
            .send(Method::DELETE, &format!("/Users/{id}"), None, &[])
            .await
            .assert_scim_error(401, None);
        stranger.get("/Users").await.assert_scim_error(401, None);
        stranger
            .get("/ServiceProviderConfig")
            .await
            .assert_scim_error(401, None);
    }
    // Give the batch writer time to write anything it (wrongly) got.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.events().await.len(), before_events);
    assert_eq!(app.all_event_count().await, before_events);
    assert_eq!(token_state(&app).await, tokens_before);
    assert_eq!(app.get("/Users").await.total(), 1);
}

/// Every token's `last_used_at` of the app's tenant.
async fn token_state(app: &TestApp) -> Vec<serde_json::Value> {
    app.query_json(&format!(
        "SELECT to_jsonb(array_agg(last_used_at ORDER BY id)) AS json FROM scim_tokens WHERE tenant_id = '{}'",
        app.tenant
    ))
    .await
}

#[tokio::test]
async fn unauthenticated_bad_bodies_get_401_not_a_body_error() {
    let app = spawn_app().await;
    let stranger = app.with_authorization(Some("non-token"));
    let big = format!("{{\"userName\": \"{}\"}}", "x".repeat(5 * 1024 * 1024));
    for body in ["{not json", "", big.as_str()] {
        let response = stranger
            .send(Method::POST, "/Users", Some(body.to_owned()), &[])
            .await;
        response.assert_scim_error(401, None);
    }
    let (other, _) = app.other_tenant("Beta").await;
    app.on_tenant_path(&other.to_string())
        .send(Method::POST, "/Groups", Some("[".into()), &[])
        .await
        .assert_scim_error(401, None);
}
