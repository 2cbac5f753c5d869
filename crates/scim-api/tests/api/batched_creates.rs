//! Creates that arrive together are written together: each still gets its own answer (one 201
//! per userName and tenant, a 409 for every other), none is answered before its row is stored,
//! a batch that fails loses nothing, and a create that finds no queue is not held back.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::client::{Scim, TestResponse};
use crate::helpers::{TestApp, USER_SCHEMA, spawn_app};

fn user(user_name: &str) -> Value {
    json!({"schemas": [USER_SCHEMA], "userName": user_name})
}

/// Sends every `(client, userName)` create at once; the answers in the same order.
async fn create_all(creates: &[(Scim, String)]) -> Vec<TestResponse> {
    let running: Vec<_> = creates
        .iter()
        .map(|(client, name)| {
            let (client, body) = (client.clone(), user(name));
            tokio::spawn(async move { client.post("/Users", &body).await })
        })
        .collect();
    let mut answers = Vec::new();
    for handle in running {
        answers.push(handle.await.unwrap_or_else(|e| panic!("{e}")));
    }
    answers
}

/// The tenant's stored users, userName by id.
async fn stored(app: &TestApp, tenant: impl std::fmt::Display) -> HashMap<String, String> {
    app.query_json(&format!(
        "SELECT jsonb_build_array(id, user_name) AS json FROM users WHERE tenant_id = '{tenant}'"
    ))
    .await
    .into_iter()
    .map(|row| {
        (
            row[0].as_str().unwrap_or_default().to_owned(),
            row[1].as_str().unwrap_or_default().to_owned(),
        )
    })
    .collect()
}

#[tokio::test]
async fn colliding_creates_get_one_201_per_user_name_in_each_tenant() {
    let app = spawn_app().await;
    let (other_tenant, other) = app.other_tenant("Other").await;
    app.create_user("taken@example.com").await;

    // 16 new names, each sent three times in other cases by both tenants, and a taken name four
    // times: 100 creates at once, more than one batch holds.
    let mut asked = Vec::new();
    for i in 0..16 {
        for name in [
            format!("new-{i}@example.com"),
            format!("NEW-{i}@example.com"),
            format!("New-{i}@Example.COM"),
        ] {
            asked.push((true, name.clone()));
            asked.push((false, name));
        }
    }
    for _ in 0..4 {
        asked.push((true, "Taken@example.com".to_owned()));
    }
    let client = |ours: bool| {
        if ours {
            app.scim.clone()
        } else {
            other.clone()
        }
    };
    let creates: Vec<_> = asked
        .iter()
        .map(|(ours, name)| (client(*ours), name.clone()))
        .collect();
    let answers = create_all(&creates).await;

    let mut created: HashMap<(bool, String), Vec<String>> = HashMap::new();
    let mut refused = 0;
    for ((ours, name), answer) in asked.iter().zip(&answers) {
        let ours = *ours;
        match answer.status {
            201 => {
                assert_eq!(answer.json["userName"], name.as_str(), "{}", answer.text);
                created
                    .entry((ours, name.to_lowercase()))
                    .or_default()
                    .push(answer.id());
            }
            409 => {
                answer.assert_scim_error(409, Some("uniqueness"));
                refused += usize::from(ours);
            }
            _ => panic!("{name}: {} {}", answer.status, answer.text),
        }
    }
    assert_eq!(
        created.len(),
        32,
        "one 201 per new name and tenant: {created:?}"
    );
    assert!(created.values().all(|ids| ids.len() == 1), "{created:?}");
    assert!(!created.keys().any(|(_, name)| name.starts_with("taken")));
    assert_eq!(refused, 16 * 2 + 4, "every other create of ours is a 409");

    // What was answered is what is stored, in each tenant, and nothing else.
    for (ours, tenant) in [
        (true, app.tenant.to_string()),
        (false, other_tenant.to_string()),
    ] {
        let rows = stored(&app, &tenant).await;
        assert_eq!(rows.len(), 16 + usize::from(ours), "{rows:?}");
        for ((of_ours, _), ids) in &created {
            if *of_ours == ours {
                assert!(rows.contains_key(&ids[0]), "{ids:?} is stored");
            }
        }
    }
    let largest = app.batches.creates.figures().largest;
    assert!(
        largest > 1,
        "the creates were batched (largest batch {largest})"
    );
    // Rows one statement wrote share its transaction id: the batches were written together,
    // not each alone after the fact.
    let transactions = app
        .query_json(&format!(
            "SELECT to_jsonb(count(DISTINCT xmin::text)) AS json FROM users WHERE tenant_id = '{}'",
            app.tenant
        ))
        .await;
    assert!(
        transactions[0].as_u64().unwrap_or(u64::MAX) < 17,
        "{transactions:?} transactions for 17 users"
    );

    // Asked again, afterwards: every name now collides with a stored user.
    let again: Vec<_> = asked
        .iter()
        .filter(|(ours, _)| *ours)
        .map(|(_, name)| (app.scim.clone(), name.clone()))
        .collect();
    for answer in create_all(&again).await {
        answer.assert_scim_error(409, Some("uniqueness"));
    }

    // One 201 event per user of ours (the taken one included), and one 409 event per refusal.
    let expected = 17 + refused + again.len();
    let events = app.wait_for_events(expected).await;
    let with = |status: i64| events.iter().filter(|e| e["status"] == status).count();
    assert_eq!(with(201), 17, "{events:?}");
    assert_eq!(with(409), refused + again.len());
    for ((ours, _), ids) in &created {
        if *ours {
            let recorded = events
                .iter()
                .filter(|e| e["status"] == 201 && e["resource_id"] == ids[0].as_str())
                .count();
            assert_eq!(recorded, 1, "{ids:?}");
        }
    }
}

#[tokio::test]
async fn a_failing_batch_answers_each_create_and_loses_none() {
    let app = spawn_app().await;
    // A fault only the database knows of, and a create slow enough for the others to queue
    // behind it and go together in the next batch.
    app.trigger_on_users(
        "poison_and_slow",
        "INSERT",
        "IF NEW.user_name = 'poison@example.com' THEN RAISE EXCEPTION 'poisoned'; END IF; \
         IF NEW.user_name = 'slow@example.com' THEN PERFORM pg_sleep(1); END IF;",
    )
    .await;
    let slow = {
        let client = app.scim.clone();
        tokio::spawn(async move { client.post("/Users", &user("slow@example.com")).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    let mut creates: Vec<(Scim, String)> = (0..20)
        .map(|i| (app.scim.clone(), format!("user-{i}@example.com")))
        .collect();
    creates.insert(10, (app.scim.clone(), "poison@example.com".to_owned()));
    creates.push((app.scim.clone(), "twin@example.com".to_owned()));
    creates.push((app.scim.clone(), "TWIN@example.com".to_owned()));
    let before = app.batches.creates.figures();
    let answers = create_all(&creates).await;
    slow.await
        .unwrap_or_else(|e| panic!("{e}"))
        .assert_status(201);
    let after = app.batches.creates.figures();
    assert!(
        after.largest >= 10 && after.batches - before.batches < 10,
        "the creates went together: {before:?} -> {after:?}"
    );

    let rows = stored(&app, app.tenant).await;
    let mut twins = Vec::new();
    for ((_, name), answer) in creates.iter().zip(&answers) {
        if name == "poison@example.com" {
            assert!(answer.status >= 500, "{}", answer.text);
        } else if name.eq_ignore_ascii_case("twin@example.com") {
            twins.push(answer.status);
        } else {
            answer.assert_status(201);
            assert_eq!(rows.get(&answer.id()), Some(name), "{name} is stored");
        }
    }
    twins.sort_unstable();
    assert_eq!(twins, [201, 409], "one of the twins is created");
    assert!(!rows.values().any(|name| name == "poison@example.com"));
    assert_eq!(rows.len(), 1 + 20 + 1, "{rows:?}");
    // Each stored user's 201 is recorded once: nothing of the failed batch was kept.
    let events = app.wait_for_events(rows.len() + 2).await;
    for id in rows.keys() {
        let recorded = events
            .iter()
            .filter(|e| e["status"] == 201 && e["resource_id"] == id.as_str())
            .count();
        assert_eq!(recorded, 1, "{id}");
    }
}

#[tokio::test]
async fn a_create_that_finds_no_queue_is_not_held_back() {
    let app = spawn_app().await;
    let (_, other) = app.other_tenant("Other").await;
    // One at a time: each create is a batch of its own, done at once.
    let before = app.batches.creates.figures();
    for i in 0..5 {
        app.create_user(&format!("alone-{i}@example.com")).await;
    }
    let after = app.batches.creates.figures();
    assert_eq!(after.requests - before.requests, 5);
    assert_eq!(after.batches - before.batches, 5, "{after:?}");

    // While a slow create of one tenant runs, another tenant's create is not queued behind it.
    app.trigger_on_users(
        "slow",
        "INSERT",
        "IF NEW.user_name = 'slow@example.com' THEN PERFORM pg_sleep(5); END IF;",
    )
    .await;
    let slow = {
        let client = app.scim.clone();
        tokio::spawn(async move { client.post("/Users", &user("slow@example.com")).await })
    };
    tokio::time::sleep(Duration::from_millis(150)).await;
    other
        .post("/Users", &user("quick@example.com"))
        .await
        .assert_status(201);
    assert!(
        !slow.is_finished(),
        "the other tenant's create was answered while the slow one still ran"
    );
    slow.await
        .unwrap_or_else(|e| panic!("{e}"))
        .assert_status(201);
}
