//! Provisioning activity: SCIM requests made with the tenant's token appear in the list and in
//! a detail view whose payload has its secrets removed.

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Browser, ids_after, spawn_app};

/// Waits (bounded) until the activity list shows an event with `operation`; its id.
pub async fn wait_for_event_id(browser: &Browser, operation: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let html = browser.page("/console/activity").await;
        if let Some(row) = html
            .split("<tr")
            .find(|row| row.contains(&format!("<td>{operation}</td>")))
            && let Some(id) = ids_after(row, "/console/activity/").first()
        {
            return id.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no {operation} event appeared: {html}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_scim_request_appears_in_the_activity_with_its_password_redacted() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let token = app.issue_token(tenant, Utc::now()).await;
    let empty = admin.page("/console/activity").await;
    assert!(empty.contains("No provisioning requests yet."));

    let created = app
        .scim(Method::POST, tenant, "/Users", &token.token)
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ann@acme.example",
            "password": "Hunter2-do-not-log",
            "name": { "givenName": "Ann", "familyName": "Lee" },
            "active": true,
        }))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(created.status(), StatusCode::CREATED);
    let missing = app
        .scim(
            Method::GET,
            tenant,
            &format!("/Users/{}", uuid::Uuid::new_v4()),
            &token.token,
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    let event = wait_for_event_id(&admin, "Create user").await;
    wait_for_event_id(&admin, "Read user").await;
    let list = admin.page("/console/activity").await;
    let detail = admin.page(&format!("/console/activity/{event}")).await;
    let failed = admin.page("/console/activity?status=failed").await;
    let succeeded = admin
        .page("/console/activity?status=succeeded&resource=User&range=24h")
        .await;
    let groups = admin.page("/console/activity?resource=Group").await;

    assert!(list.contains("2 events"), "{list}");
    assert!(list.contains("<svg"), "the hourly chart");
    assert!(
        list.contains("2 requests, <span class=\"error-count\">1 error</span>."),
        "{list}"
    );
    assert!(detail.contains("Create user"));
    assert!(detail.contains("POST /Users"));
    assert!(detail.contains(">201<"));
    assert!(detail.contains("ann@acme.example"));
    assert!(detail.contains("[redacted]"));
    assert!(!detail.contains("Hunter2-do-not-log"));
    assert!(!list.contains("Hunter2-do-not-log"));
    assert!(failed.contains("Read user") && !failed.contains("Create user"));
    assert!(failed.contains(">404<"));
    assert!(succeeded.contains("Create user") && !succeeded.contains("Read user"));
    assert!(groups.contains("0 events"));
    let sync = admin.page("/console/secure/advanced/user-group-sync").await;
    assert!(sync.contains("1 user, 0 groups"));
    assert!(sync.contains("Last error from the identity provider"));
    assert!(
        sync.contains("href=\"/console/activity/"),
        "links the last error"
    );
}
