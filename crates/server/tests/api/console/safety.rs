//! Provisioning safety over real HTTP: pause and resume answer the identity provider 503 and
//! then 200, Revoke all tokens needs its typed confirmation, a held match is linked from the
//! review list and found by the next lookup, the breaker's banner offers Undo and Acknowledge,
//! and a deleted user is restored from the list — never another tenant's.

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tenancy::TenantId;

use crate::helpers::{Admin, TenantFixture, TestApp, location, spawn_app, text};

const SAFETY: &str = "/console/secure/advanced/user-group-sync/safety";
const SYNC: &str = "/console/secure/advanced/user-group-sync";

async fn scim(
    app: &TestApp,
    method: Method,
    tenant: TenantId,
    path: &str,
    token: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let request = app.scim(method, tenant, path, token);
    let request = match body {
        Some(body) => request.body(body.to_string()),
        None => request,
    };
    request.send().await.unwrap_or_else(|e| panic!("{e}"))
}

/// Submits a safety form; the page it leads to.
async fn press(admin: &Admin, action: &str, fields: &[(&str, &str)]) -> String {
    let response = admin
        .submit(SAFETY, &format!("{SAFETY}/{action}"), fields)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{action}");
    admin.page(&location(&response)).await
}

fn user(user_name: &str) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Ida", "familyName": "Provider"},
        "emails": [{"value": user_name, "primary": true}],
    })
}

#[tokio::test]
async fn pausing_answers_the_identity_provider_503_until_resumed() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let token = app.issue_token(tenant, Utc::now()).await.token;

    let page = press(&admin, "pause", &[]).await;
    assert!(page.contains("Provisioning is paused"), "{page}");
    let paused = scim(&app, Method::GET, tenant, "/Users", &token, None).await;
    assert_eq!(paused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(paused.headers().contains_key("retry-after"));
    assert!(text(paused).await.contains("paused by the tenant's admin"));
    let sync = admin.page(SYNC).await;
    assert!(sync.contains("Provisioning is paused since"), "{sync}");

    let page = press(&admin, "resume", &[]).await;
    assert!(page.contains("Provisioning resumed"), "{page}");
    let resumed = scim(&app, Method::GET, tenant, "/Users", &token, None).await;
    assert_eq!(resumed.status(), StatusCode::OK);
    let activity = admin.page("/console/activity?operation=admin").await;
    assert!(activity.contains("Paused provisioning"), "{activity}");
    assert!(activity.contains("Resumed provisioning"), "{activity}");
}

#[tokio::test]
async fn revoking_all_tokens_needs_the_typed_confirmation() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let token = app.issue_token(tenant, Utc::now()).await.token;

    let page = press(&admin, "revoke-all", &[("confirm", "revoke")]).await;
    assert!(page.contains("Nothing was revoked"), "{page}");
    let still = scim(&app, Method::GET, tenant, "/Users", &token, None).await;
    assert_eq!(still.status(), StatusCode::OK);

    let page = press(&admin, "revoke-all", &[("confirm", "REVOKE")]).await;
    assert!(page.contains("1 token(s) revoked"), "{page}");
    assert!(
        page.contains("Generate Token"),
        "the page offers a new token: {page}"
    );
    let refused = scim(&app, Method::GET, tenant, "/Users", &token, None).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_held_match_is_shown_side_by_side_and_linked_for_the_next_lookup() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let token = app.issue_token(tenant, Utc::now()).await.token;
    let existing = app
        .insert_user(
            tenant,
            json!({"userName": "ida@acme.example", "name": {"givenName": "Old"}}),
            "import",
        )
        .await;

    let held = scim(
        &app,
        Method::POST,
        tenant,
        "/Users",
        &token,
        Some(user("ida@acme.example")),
    )
    .await;
    assert_eq!(held.status(), StatusCode::CONFLICT);
    let sync = admin.page(SYNC).await;
    assert!(sync.contains("wait for your review"), "{sync}");
    let page = admin.page(SAFETY).await;
    assert!(page.contains("Waiting for your review (1)"), "{page}");
    assert!(page.contains("Same userName: ida@acme.example"), "{page}");
    assert!(
        page.contains("CSV import") && page.contains("Ida Provider"),
        "{page}"
    );

    // Another tenant's admin cannot link it.
    let other = app.login_admin_of(TenantFixture::new("Globex")).await;
    let foreign = other
        .submit(SAFETY, &format!("{SAFETY}/conflicts/{existing}/link"), &[])
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);

    let page = press(&admin, &format!("conflicts/{existing}/link"), &[]).await;
    assert!(page.contains("ida@acme.example is linked"), "{page}");
    assert!(page.contains("Nothing to review"), "{page}");
    let lookup = scim(
        &app,
        Method::GET,
        tenant,
        "/Users?filter=userName%20eq%20%22ida%40acme.example%22",
        &token,
        None,
    )
    .await;
    let found: serde_json::Value = lookup.json().await.unwrap_or_default();
    assert_eq!(found["totalResults"], 1, "{found}");
    assert_eq!(found["Resources"][0]["id"], existing.to_string());
    let detail = admin.page(&format!("/console/users/{existing}")).await;
    assert!(
        detail.contains("Linked to your identity provider") && detail.contains(&admin.tenant.email),
        "{detail}"
    );
}

#[tokio::test]
async fn the_breaker_banner_undoes_a_mass_deactivation_and_is_acknowledged() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let token = app.issue_token(tenant, Utc::now()).await.token;
    let mut ids = Vec::new();
    for n in 0..56 {
        let created = scim(
            &app,
            Method::POST,
            tenant,
            "/Users",
            &token,
            Some(user(&format!("u{n}@acme.example"))),
        )
        .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let body: serde_json::Value = created.json().await.unwrap_or_default();
        ids.push(body["id"].as_str().unwrap_or_default().to_owned());
    }
    let off = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"active": false}}],
    });
    for id in &ids[..51] {
        let done = scim(
            &app,
            Method::PATCH,
            tenant,
            &format!("/Users/{id}"),
            &token,
            Some(off.clone()),
        )
        .await;
        assert_eq!(done.status(), StatusCode::OK);
    }
    app.notifier()
        .notice_all(Utc::now())
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let sync = admin.page(SYNC).await;
    assert!(
        sync.contains("Your identity provider deactivated 51 of 56 users in"),
        "{sync}"
    );
    let page = admin.page(SAFETY).await;
    let trip = page
        .split(&format!("{SAFETY}/trips/"))
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_else(|| panic!("no trip form: {page}"))
        .to_owned();
    assert!(page.contains("u0@acme.example"), "the batch is listed");

    let page = press(&admin, &format!("trips/{trip}/undo"), &[]).await;
    assert!(
        page.contains("Undone: 51 user(s) reactivated and 0 restored"),
        "{page}"
    );
    assert!(page.contains("still has these users deactivated"), "{page}");
    let back = scim(
        &app,
        Method::GET,
        tenant,
        &format!("/Users/{}", ids[0]),
        &token,
        None,
    )
    .await;
    let body: serde_json::Value = back.json().await.unwrap_or_default();
    assert_eq!(body["active"], true, "{body}");

    let page = press(&admin, &format!("trips/{trip}/acknowledge"), &[]).await;
    assert!(page.contains("Acknowledged"), "{page}");
    assert!(
        !page.contains("circuit breaker tripped"),
        "the banner is gone: {page}"
    );
}

#[tokio::test]
async fn a_deleted_user_is_listed_found_and_restored_but_not_by_another_tenant() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let token = app.issue_token(tenant, Utc::now()).await.token;
    let created = scim(
        &app,
        Method::POST,
        tenant,
        "/Users",
        &token,
        Some(user("gone@acme.example")),
    )
    .await;
    let body: serde_json::Value = created.json().await.unwrap_or_default();
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    let deleted = scim(
        &app,
        Method::DELETE,
        tenant,
        &format!("/Users/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);

    let page = admin.page(SAFETY).await;
    assert!(
        page.contains("Deleted users (1)") && page.contains("gone@acme.example"),
        "{page}"
    );
    let found = admin.page(&format!("{SAFETY}?q=gone")).await;
    assert!(found.contains("gone@acme.example"));
    let missed = admin.page(&format!("{SAFETY}?q=nobody")).await;
    assert!(missed.contains("No deleted user matches"), "{missed}");

    let other = app.login_admin_of(TenantFixture::new("Globex")).await;
    let foreign = other
        .submit(SAFETY, &format!("{SAFETY}/deleted/{id}/restore"), &[])
        .await;
    let page = other.page(&location(&foreign)).await;
    assert!(page.contains("could not be restored"), "{page}");

    let page = press(&admin, &format!("deleted/{id}/restore"), &[]).await;
    assert!(page.contains("The user is restored"), "{page}");
    let back = scim(
        &app,
        Method::GET,
        tenant,
        &format!("/Users/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(back.status(), StatusCode::OK);
}

#[tokio::test]
async fn generate_token_in_shadow_mode_stages_the_first_sync_for_review_then_goes_live() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let html = admin.page(SYNC).await;
    assert!(html.contains("Start in shadow mode (dry run)"), "{html}");
    let csrf = crate::helpers::field_value(&html, "csrf").unwrap_or_default();
    let request_id = crate::helpers::field_value(&html, "request_id").unwrap_or_default();
    let generated = admin
        .post_form(
            &format!("{SYNC}/token"),
            &[
                ("csrf", &csrf),
                ("request_id", &request_id),
                ("shadow", "on"),
            ],
        )
        .await;
    let html = text(generated).await;
    let token = crate::helpers::input_value_by_id(&html, "issued-token")
        .unwrap_or_else(|| panic!("no token: {html}"));
    assert!(html.contains("Shadow mode is on"), "{html}");

    let created = scim(
        &app,
        Method::POST,
        tenant,
        "/Users",
        &token,
        Some(user("new@acme.example")),
    )
    .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: serde_json::Value = created.json().await.unwrap_or_default();
    let id = body["id"].as_str().unwrap_or_default().to_owned();
    let users = admin.page("/console/users").await;
    assert!(
        !users.contains("new@acme.example"),
        "not in the directory yet"
    );

    let review = admin
        .page("/console/secure/advanced/user-group-sync/shadow")
        .await;
    assert!(review.contains("Users to create: 1"), "{review}");
    assert!(review.contains("new@acme.example"), "{review}");
    let none = admin
        .page("/console/secure/advanced/user-group-sync/shadow?q=nobody")
        .await;
    assert!(none.contains("No staged change matches"), "{none}");

    let live = admin
        .submit(
            "/console/secure/advanced/user-group-sync/shadow",
            "/console/secure/advanced/user-group-sync/shadow/go-live",
            &[],
        )
        .await;
    let page = admin.page(&location(&live)).await;
    assert!(page.contains("Live: 1 user(s) created"), "{page}");
    assert!(!page.contains("Shadow mode is on"), "{page}");
    let detail = admin.page(&format!("/console/users/{id}")).await;
    assert!(detail.contains("new@acme.example"), "the same id, live");
    let again = scim(
        &app,
        Method::GET,
        tenant,
        &format!("/Users/{id}"),
        &token,
        None,
    )
    .await;
    assert_eq!(again.status(), StatusCode::OK);
    let gone = admin
        .get("/console/secure/advanced/user-group-sync/shadow")
        .await;
    assert_eq!(
        gone.status(),
        StatusCode::SEE_OTHER,
        "no shadow to review any more"
    );
}
