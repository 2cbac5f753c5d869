//! Concurrent requests: uniqueness is kept by the database, and concurrent member changes to one
//! group lose nothing.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::helpers::{Scim, USER_SCHEMA, spawn_app, values_of};

#[tokio::test]
async fn simultaneous_creates_of_one_user_name_give_one_201_and_one_409() {
    let app = spawn_app().await;
    for round in 0..5 {
        let name = format!("race{round}@example.com");
        let first = json!({"schemas": [USER_SCHEMA], "userName": name});
        let second = json!({"schemas": [USER_SCHEMA], "userName": name.to_uppercase()});
        let (a, b) = tokio::join!(app.post("/Users", &first), app.post("/Users", &second));
        let mut statuses = [a.status, b.status];
        statuses.sort_unstable();
        assert_eq!(statuses, [201, 409], "{} / {}", a.text, b.text);
        let conflict = if a.status == 409 { &a } else { &b };
        conflict.assert_scim_error(409, Some("uniqueness"));
    }
    assert_eq!(app.get("/Users").await.total(), 5);
}

#[tokio::test]
async fn concurrent_member_patches_lose_no_member() {
    let app = spawn_app().await;
    let rows: Vec<String> = (0..1000).map(|i| format!("('{i}')")).collect();
    app.execute(&format!(
        "INSERT INTO users (tenant_id, id, user_name) \
         SELECT '{}', gen_random_uuid(), 'member' || n FROM (VALUES {}) AS v(n)",
        app.tenant,
        rows.join(",")
    ))
    .await;
    let ids: Vec<String> = app
        .query_json(&format!(
            "SELECT to_jsonb(id::text) AS json FROM users WHERE tenant_id = '{}' ORDER BY id",
            app.tenant
        ))
        .await
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 1000);
    let group = app.create_group("Crowd", &[]).await;
    let path = format!("/Groups/{group}");

    let additions = ids
        .chunks(50)
        .map(|chunk| {
            let members: Vec<Value> = chunk.iter().map(|id| json!({"value": id})).collect();
            json!([{"op": "add", "path": "members", "value": members}])
        })
        .collect::<Vec<_>>();
    let responses = concurrent_patches(&app.scim, &path, additions).await;
    assert_eq!(responses.len(), 20);
    for (status, text) in &responses {
        assert_eq!(*status, 204, "{text}");
    }

    let fetched = app.get(&path).await;
    let members: BTreeSet<String> = values_of(
        fetched.json["members"].as_array().expect("members"),
        "value",
    )
    .into_iter()
    .collect();
    assert_eq!(members, ids.iter().cloned().collect::<BTreeSet<_>>());

    // Concurrent removals and re-adds of disjoint halves settle to the expected set too.
    let (keep, leave) = ids.split_at(500);
    let removals = leave
        .chunks(50)
        .map(|chunk| {
            let filter = chunk
                .iter()
                .map(|id| format!("value eq \"{id}\""))
                .collect::<Vec<_>>()
                .join(" or ");
            json!([{"op": "remove", "path": format!("members[{filter}]")}])
        })
        .collect::<Vec<_>>();
    for (status, text) in concurrent_patches(&app.scim, &path, removals).await {
        assert_eq!(status, 204, "{text}");
    }
    let fetched = app.get(&path).await;
    let members: BTreeSet<String> = values_of(
        fetched.json["members"].as_array().expect("members"),
        "value",
    )
    .into_iter()
    .collect();
    assert_eq!(members, keep.iter().cloned().collect::<BTreeSet<_>>());
}

/// Sends each operation list as a PATCH of `path`, all at once, and returns the statuses and
/// bodies in order.
async fn concurrent_patches(scim: &Scim, path: &str, bodies: Vec<Value>) -> Vec<(u16, String)> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|operations| {
            let scim = scim.clone();
            let path = path.to_owned();
            tokio::spawn(async move {
                let response = scim.patch_ops(&path, operations).await;
                (response.status, response.text)
            })
        })
        .collect();
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.expect("request task"));
    }
    results
}
