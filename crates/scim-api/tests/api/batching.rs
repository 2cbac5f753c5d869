//! Okta's `userName eq` lookups, answered in batches when they arrive together: every lookup
//! gets its own answer (its tenant's user, with that user's groups, or none), however many of
//! them, of however many tenants, go through at once.

use crate::client::filter_query;
use crate::helpers::spawn_app;

fn lookup(user_name: &str) -> String {
    format!(
        "/Users?{}",
        filter_query(&format!("userName eq \"{user_name}\""))
    )
}

#[tokio::test]
async fn concurrent_lookups_of_two_tenants_each_get_their_own_answer() {
    let app = spawn_app().await;
    let (_, other) = app.other_tenant("Other").await;
    let ours = app.create_user("shared@example.com").await;
    let theirs = other
        .post(
            "/Users",
            &serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "shared@example.com",
            }),
        )
        .await
        .json["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    app.create_user("only-ours@example.com").await;
    let group = app.create_group("Engineering", &[&ours]).await;
    assert_ne!(ours, theirs);

    // 120 lookups at once: both tenants, the shared name in other cases, names only one tenant
    // has, and names no one has.
    let mut asked = Vec::new();
    for i in 0..20 {
        asked.push((true, "SHARED@example.com".to_owned(), Some(ours.clone())));
        asked.push((false, "shared@EXAMPLE.com".to_owned(), Some(theirs.clone())));
        asked.push((
            true,
            "only-ours@example.com".to_owned(),
            Some(String::new()),
        ));
        asked.push((false, "only-ours@example.com".to_owned(), None));
        asked.push((true, format!("nobody-{i}@example.com"), None));
        asked.push((false, format!("nobody-{i}@example.com"), None));
    }
    let mut running = Vec::new();
    for (mine, name, _) in &asked {
        let client = if *mine {
            app.scim.clone()
        } else {
            other.clone()
        };
        let path = lookup(name);
        running.push(tokio::spawn(async move { client.get(&path).await }));
    }
    let mut answers = Vec::new();
    for handle in running {
        answers.push(handle.await.unwrap_or_else(|e| panic!("{e}")));
    }
    for ((mine, name, expected), answer) in asked.iter().zip(answers) {
        assert_eq!(answer.status, 200, "{name}: {}", answer.text);
        let found = answer.resources();
        match expected {
            None => assert_eq!(answer.total(), 0, "{mine} {name}: {}", answer.text),
            Some(id) => {
                assert_eq!(answer.total(), 1, "{mine} {name}: {}", answer.text);
                if !id.is_empty() {
                    assert_eq!(found[0]["id"], id.as_str(), "{mine} {name}");
                }
                let groups = found[0]["groups"].as_array().cloned().unwrap_or_default();
                let in_group = *mine && name.eq_ignore_ascii_case("shared@example.com");
                assert_eq!(
                    groups.iter().any(|g| g["value"] == group.as_str()),
                    in_group,
                    "{mine} {name}: {}",
                    answer.text
                );
            }
        }
    }
    // A userName beyond ASCII is looked up on its own, by the database's lower().
    let zoe = app.create_user("Zoë@example.com").await;
    let found = app.get(&lookup("Zoë@example.com")).await;
    assert_eq!(found.total(), 1, "{}", found.text);
    assert_eq!(found.resources()[0]["id"], zoe.as_str());
    // Asked for without groups, a lookup leaves them out.
    let bare = app
        .get(&format!(
            "{}&attributes=userName",
            lookup("shared@example.com")
        ))
        .await;
    assert_eq!(bare.total(), 1);
    assert!(bare.resources()[0].get("groups").is_none(), "{}", bare.text);
}

/// Okta's deactivation: a path-less `replace` of `active`.
fn deactivation() -> serde_json::Value {
    serde_json::json!([{ "op": "replace", "value": { "active": false } }])
}

#[tokio::test]
async fn concurrent_deactivations_each_get_their_own_answer_and_event() {
    let app = spawn_app().await;
    let (_, other) = app.other_tenant("Other").await;
    let mut ours = Vec::new();
    for i in 0..30 {
        ours.push(app.create_user(&format!("ours-{i}@example.com")).await);
    }
    let theirs = other
        .post(
            "/Users",
            &serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "theirs@example.com",
            }),
        )
        .await
        .json["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Already inactive: answered 200 with nothing new written.
    let inactive = ours[29].clone();
    assert_eq!(
        app.patch_ops(&format!("/Users/{inactive}"), deactivation())
            .await
            .status,
        200
    );
    let events_before = app.events().await.len();

    let mut running = Vec::new();
    for id in &ours {
        let (client, path) = (app.scim.clone(), format!("/Users/{id}"));
        running.push(tokio::spawn(async move {
            client.patch_ops(&path, deactivation()).await
        }));
    }
    // Another tenant's user through this tenant's URL is not found; its own tenant deactivates it.
    for (client, id) in [
        (app.scim.clone(), theirs.clone()),
        (other.clone(), theirs.clone()),
    ] {
        let path = format!("/Users/{id}");
        running.push(tokio::spawn(async move {
            client.patch_ops(&path, deactivation()).await
        }));
    }
    let mut answers = Vec::new();
    for handle in running {
        answers.push(handle.await.unwrap_or_else(|e| panic!("{e}")));
    }
    for (id, answer) in ours.iter().zip(&answers) {
        assert_eq!(answer.status, 200, "{id}: {}", answer.text);
        assert_eq!(answer.json["id"], id.as_str());
        assert_eq!(answer.json["active"], false);
        let row = app.user_row(id).await.unwrap_or_default();
        assert_eq!(row["active"], false, "{id} is stored inactive");
    }
    answers[30].assert_scim_error(404, None);
    assert_eq!(answers[31].status, 200, "{}", answers[31].text);
    assert_eq!(answers[31].json["active"], false);
    // Rows one statement wrote share its transaction id: the deactivations were written
    // together, not one by one.
    let transactions = app
        .query_json(&format!(
            "SELECT to_jsonb(count(DISTINCT xmin::text)) AS json FROM users \
             WHERE tenant_id = '{}' AND id::text IN ({})",
            app.tenant,
            ours[..29]
                .iter()
                .map(|id| format!("'{id}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .await;
    assert!(
        transactions[0].as_u64().unwrap_or(u64::MAX) < 29,
        "{transactions:?} transactions for 29 deactivations"
    );
    // One 200 event for each of our 30 deactivations (the one already inactive included, as a
    // write that changes nothing); the 404 of another tenant's user is no 200.
    let events = app.wait_for_events(events_before + 30).await;
    let written = events[events_before..]
        .iter()
        .filter(|e| e["status"] == 200)
        .count();
    assert_eq!(written, 30, "{:?}", &events[events_before..]);
}

#[tokio::test]
async fn a_failing_deactivation_fails_alone_and_no_other_is_lost() {
    let app = spawn_app().await;
    let mut users = Vec::new();
    for i in 0..20 {
        users.push(app.create_user(&format!("user-{i}@example.com")).await);
    }
    let poison = app.create_user("poison@example.com").await;
    // A fault only the database knows of: any update of this one user fails.
    app.trigger_on_users(
        "refuse_poison",
        "UPDATE",
        "IF NEW.user_name = 'poison@example.com' THEN RAISE EXCEPTION 'poisoned'; END IF;",
    )
    .await;
    let mut running = Vec::new();
    for (at, id) in users.iter().enumerate() {
        let (client, path) = (app.scim.clone(), format!("/Users/{id}"));
        running.push(tokio::spawn(async move {
            client.patch_ops(&path, deactivation()).await
        }));
        if at == 10 {
            let (client, path) = (app.scim.clone(), format!("/Users/{poison}"));
            running.push(tokio::spawn(async move {
                client.patch_ops(&path, deactivation()).await
            }));
        }
    }
    let mut answers = Vec::new();
    for handle in running {
        answers.push(handle.await.unwrap_or_else(|e| panic!("{e}")));
    }
    let poisoned = answers.remove(11);
    assert!(poisoned.status >= 500, "{}", poisoned.text);
    assert_eq!(
        app.user_row(&poison).await.unwrap_or_default()["active"],
        true
    );
    for (id, answer) in users.iter().zip(&answers) {
        assert_eq!(answer.status, 200, "{id}: {}", answer.text);
        assert_eq!(
            app.user_row(id).await.unwrap_or_default()["active"],
            false,
            "{id}"
        );
    }
}

#[tokio::test]
async fn two_changes_of_one_user_in_one_batch_are_both_applied_in_turn() {
    let app = spawn_app().await;
    let slow = app.create_user("slow@example.com").await;
    let twice = app.create_user("twice@example.com").await;
    // A deactivation slow enough for the next ones to queue behind it and go together.
    app.trigger_on_users(
        "slow_update",
        "UPDATE",
        "IF NEW.user_name = 'slow@example.com' THEN PERFORM pg_sleep(0.5); END IF;",
    )
    .await;
    let first = {
        let (client, path) = (app.scim.clone(), format!("/Users/{slow}"));
        tokio::spawn(async move { client.patch_ops(&path, deactivation()).await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    let events_before = app.events().await.len();
    let mut running = Vec::new();
    for active in [false, true, false] {
        let (client, path) = (app.scim.clone(), format!("/Users/{twice}"));
        let ops = serde_json::json!([{ "op": "replace", "value": { "active": active } }]);
        running.push(tokio::spawn(
            async move { client.patch_ops(&path, ops).await },
        ));
    }
    let mut answers = Vec::new();
    for handle in running {
        answers.push(handle.await.unwrap_or_else(|e| panic!("{e}")));
    }
    assert_eq!(first.await.unwrap_or_else(|e| panic!("{e}")).status, 200);
    // Each change is answered with the user as it left it (one that changes nothing keeps the
    // version), and the last one applied is what is stored.
    let answered: Vec<(i64, bool)> = answers
        .iter()
        .map(|answer| {
            assert_eq!(answer.status, 200, "{}", answer.text);
            let etag = answer.header("etag").unwrap_or_default();
            let version = etag.trim_start_matches("W/").trim_matches('"').parse();
            (
                version.unwrap_or_else(|_| panic!("{etag}")),
                answer.json["active"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    let row = app.user_row(&twice).await.unwrap_or_default();
    let last = answered.iter().max().copied().unwrap_or_default();
    assert_eq!(row["version"], last.0, "{row} {answered:?}");
    assert_eq!(row["active"], last.1, "{row} {answered:?}");
    for (version, active) in &answered {
        // The same version always with the same state: no change was lost or doubled.
        assert!(
            answered.iter().all(|(v, a)| v != version || a == active),
            "{answered:?}"
        );
    }
    let events = app.wait_for_events(events_before + 3).await;
    let recorded = events[events_before..]
        .iter()
        .filter(|e| e["status"] == 200 && e["resource_id"] == twice.as_str())
        .count();
    assert_eq!(recorded, 3);
}
