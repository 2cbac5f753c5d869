//! Refused requests are counted for the tenant the URL names, per minute and reason, with the
//! last client's address and user agent, never the token; a tenant that does not exist gets
//! nothing.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::Value;

use crate::helpers::{TestApp, spawn_app};

/// The tenant's counts by reason, once at least `total` refusals were written (the log writes
/// once a second).
async fn counts(app: &TestApp, tenant: &str, total: i64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = app
            .query_json(&format!(
                "SELECT jsonb_build_object('reason', reason, 'requests', sum(requests), \
                   'address', max(last_address), 'agent', max(last_user_agent)) AS json \
                 FROM rejected_requests WHERE tenant_id = '{tenant}' GROUP BY reason ORDER BY reason"
            ))
            .await;
        let seen: i64 = rows.iter().filter_map(|r| r["requests"].as_i64()).sum();
        if seen >= total || Instant::now() > deadline {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn refused_requests_are_counted_for_the_tenant_without_the_token() {
    let app = spawn_app().await;
    let wrong_token = "scim_thisIsNotTheTokenAtAll0123456789abcdefghijk";
    let wrong = app.with_authorization(Some(&format!("Bearer {wrong_token}")));
    for _ in 0..3 {
        let answer = wrong
            .send(
                Method::GET,
                "/Users",
                None,
                &[("User-Agent", "Okta SCIM Client 1.0.0")],
            )
            .await;
        assert_eq!(answer.status, 401);
    }
    let none = app.with_authorization(None);
    assert_eq!(none.get("/Users").await.status, 401);
    // A tenant that does not exist: refused as ever, and nothing is kept.
    let nowhere = uuid::Uuid::new_v4().to_string();
    let elsewhere = crate::client::Scim::new(
        &app.address,
        &nowhere,
        Some(&format!("Bearer {wrong_token}")),
    );
    assert_eq!(elsewhere.get("/Users").await.status, 401);
    // The right token is not a refusal.
    assert_eq!(app.scim.get("/Users").await.status, 200);

    let rows = counts(&app, &app.tenant.to_string(), 4).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0]["reason"], "missing_token");
    assert_eq!(rows[0]["requests"], 1);
    assert_eq!(rows[1]["reason"], "unknown_token");
    assert_eq!(rows[1]["requests"], 3);
    assert_eq!(rows[1]["address"], "127.0.0.1");
    assert_eq!(rows[1]["agent"], "Okta SCIM Client 1.0.0");

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(counts(&app, &nowhere, 0).await.is_empty());
    let stored = app
        .query_json("SELECT to_jsonb(r) AS json FROM rejected_requests r")
        .await;
    let text = serde_json::to_string(&stored).unwrap_or_default();
    assert!(
        !text.contains(wrong_token),
        "the presented token is never stored"
    );
}

#[tokio::test]
async fn a_tenant_whose_scim_is_off_has_its_refusals_counted() {
    let app = spawn_app().await;
    app.execute(&format!(
        "UPDATE tenants SET scim_enabled = false WHERE id = '{}'",
        app.tenant
    ))
    .await;
    assert_eq!(app.scim.get("/Users").await.status, 403);
    let rows = counts(&app, &app.tenant.to_string(), 1).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["reason"], "scim_disabled");
}
