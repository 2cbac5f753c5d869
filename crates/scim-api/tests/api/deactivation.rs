//! Deactivation and reactivation written in one statement (a PATCH that only sets `active`):
//! the same outcome as the general PATCH path, recorded the same way.

use serde_json::{Value, json};

use crate::helpers::{patch_body, spawn_app};
use crate::okta::okta_user;

/// The parts of a user that must not depend on which path wrote it.
fn comparable(user: &Value) -> Value {
    let mut user = user.clone();
    if let Some(map) = user.as_object_mut() {
        for key in ["id", "meta", "userName", "emails", "externalId"] {
            map.remove(key);
        }
    }
    user
}

#[tokio::test]
async fn deactivating_alone_matches_deactivating_among_other_changes() {
    let app = spawn_app().await;
    let alone = app.post("/Users", &okta_user("alone@okta.local")).await;
    let among = app.post("/Users", &okta_user("among@okta.local")).await;
    let given = among.json["name"]["givenName"].clone();

    let fast = app
        .patch_ops(
            &format!("/Users/{}", alone.id()),
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .await;
    // The same deactivation plus a change that changes nothing takes the general path.
    let general = app
        .patch_ops(
            &format!("/Users/{}", among.id()),
            json!([
                {"op": "replace", "value": {"active": false}},
                {"op": "replace", "path": "name.givenName", "value": given},
            ]),
        )
        .await;

    fast.assert_status(200);
    general.assert_status(200);
    assert_eq!(comparable(&fast.json), comparable(&general.json));
    assert_eq!(
        fast.json["meta"]["version"],
        general.json["meta"]["version"]
    );
    assert_ne!(fast.header("etag"), alone.header("etag"));
    let (fast_row, general_row) = (
        app.user_row(&alone.id()).await.expect("row"),
        app.user_row(&among.id()).await.expect("row"),
    );
    for column in ["active", "version", "display_name", "given_name", "source"] {
        assert_eq!(fast_row[column], general_row[column], "{column}");
    }
    assert_eq!(fast_row["attributes"]["active"], json!(false));
    assert!(fast_row["deactivated_at"].is_string());
}

#[tokio::test]
async fn repeating_a_deactivation_writes_no_new_version_but_is_recorded() {
    let app = spawn_app().await;
    let created = app.post("/Users", &okta_user("twice@okta.local")).await;
    let path = format!("/Users/{}", created.id());
    let off = json!([{"op": "replace", "value": {"active": false}}]);

    let first = app.patch_ops(&path, off.clone()).await;
    let deactivated_at = app.user_row(&created.id()).await.expect("row")["deactivated_at"].clone();
    let second = app.patch_ops(&path, off).await;

    second.assert_status(200);
    assert_eq!(first.header("etag"), second.header("etag"));
    assert_eq!(second.json["active"], false);
    assert_eq!(
        app.user_row(&created.id()).await.expect("row")["deactivated_at"],
        deactivated_at,
        "the first deactivation's time is kept"
    );
    let patches: Vec<Value> = app
        .wait_for_events(3)
        .await
        .into_iter()
        .filter(|e| e["method"] == "PATCH")
        .collect();
    assert_eq!(patches.len(), 2, "{patches:?}");
    assert!(patches.iter().all(|e| e["status"] == 200));

    // Entra's shape reactivates: a new version, no deactivation time.
    let on = app
        .patch_ops(
            &path,
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
        )
        .await;
    on.assert_status(200);
    assert_eq!(on.json["active"], true);
    assert_ne!(on.header("etag"), second.header("etag"));
    assert!(app.user_row(&created.id()).await.expect("row")["deactivated_at"].is_null());
}

#[tokio::test]
async fn an_unknown_user_is_404_and_if_match_still_guards_the_write() {
    let app = spawn_app().await;
    app.patch_ops(
        "/Users/3f1c1d9e-0000-4000-8000-000000000000",
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .assert_scim_error(404, None);

    let created = app.post("/Users", &okta_user("guarded@okta.local")).await;
    let path = format!("/Users/{}", created.id());
    app.patch_ops(
        &path,
        json!([{"op": "replace", "path": "title", "value": "New"}]),
    )
    .await
    .assert_status(200);
    let stale = created.header("etag").expect("etag");
    let body = patch_body(json!([{"op": "replace", "value": {"active": false}}])).to_string();
    let refused = app
        .send(
            reqwest::Method::PATCH,
            &path,
            Some(body),
            &[("If-Match", stale.as_str())],
        )
        .await;
    refused.assert_scim_error(412, None);
    assert_eq!(
        app.user_row(&created.id()).await.expect("row")["active"],
        true
    );
}
