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
    app.execute(
        "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ \
         BEGIN IF NEW.user_name = 'poison@example.com' THEN RAISE EXCEPTION 'poisoned'; END IF; \
         RETURN NEW; END $$",
    )
    .await;
    app.execute(
        "CREATE TRIGGER refuse_poison BEFORE UPDATE ON users FOR EACH ROW \
         EXECUTE FUNCTION refuse_poison()",
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
