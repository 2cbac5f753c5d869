//! Shadow go-live through the SCIM API: a tenant in shadow mode answers an Okta and an Entra
//! replay exactly as a live tenant does, response by response, while its directory does not
//! change; Go live applies the staged changes with the same ids and loses nothing; Discard
//! drops them; a name taken live meanwhile stops Go live with nothing applied.

use std::collections::HashMap;

use chrono::Utc;
use serde_json::{Value, json};
use tenancy::safety::shadow::{self, Applied};
use tenancy::{CrossTenant, TenantId};

use crate::helpers::{GROUP_SCHEMA, PATCH_OP, Scim, TestApp, USER_SCHEMA, filter_query, spawn_app};

const ADMIN_EMAIL: &str = "owner@acme.example";
static ADMIN: std::sync::LazyLock<tenancy::audit::Actor> =
    std::sync::LazyLock::new(|| tenancy::audit::Actor {
        email: ADMIN_EMAIL.into(),
        ..tenancy::audit::Actor::operator()
    });

async fn across<T: Send + 'static>(
    app: &TestApp,
    work: impl FnOnce(&mut tenancy::PgConnection) -> Result<T, tenancy::Error> + Send + 'static,
) -> T {
    let done = app
        .db()
        .run_across_tenants(CrossTenant::Shadow, work)
        .await
        .expect("shadow work");
    app.tokens.catch_up(app.db()).await.expect("caught up");
    done
}

async fn start(app: &TestApp, tenant: TenantId) -> TenantId {
    across(app, move |conn| {
        shadow::start(conn, tenant, &ADMIN, Utc::now())
    })
    .await
}

/// One request of a replay: `{name}` in the path or body stands for the id the run got when
/// it created `name`.
struct Step {
    method: &'static str,
    path: String,
    body: Option<Value>,
    /// Remember the answer's id under this name.
    names: Option<&'static str>,
}

fn step(method: &'static str, path: &str, body: Option<Value>) -> Step {
    Step {
        method,
        path: path.to_owned(),
        body,
        names: None,
    }
}

fn creates(name: &'static str, path: &str, body: Value) -> Step {
    Step {
        names: Some(name),
        ..step("POST", path, Some(body))
    }
}

fn okta_user(user_name: &str, given: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": given, "familyName": "Shadow"},
        "emails": [{"primary": true, "value": user_name, "type": "work"}],
        "displayName": format!("{given} Shadow"),
        "externalId": format!("00u{given}"),
        "password": "never-stored-1",
        "active": true,
    })
}

fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

fn lookup(user_name: &str) -> String {
    format!(
        "/Users?{}&startIndex=1&count=100",
        filter_query(&format!("userName eq \"{user_name}\""))
    )
}

/// Okta's and Entra's requests for a first sync: lookups, creates (one conflicting), a replace,
/// deactivations in both dialects, a group with members pushed and changed, a lookup of the
/// group by name, a delete and a re-create.
fn replay() -> Vec<Step> {
    vec![
        step("GET", &lookup("ann@acme.example"), None),
        creates("ann", "/Users", okta_user("ann@acme.example", "Ann")),
        step("GET", &lookup("ann@acme.example"), None),
        step("POST", "/Users", Some(okta_user("ANN@acme.example", "Ann"))),
        creates("bob", "/Users", okta_user("bob@acme.example", "Bob")),
        creates(
            "cy",
            "/Users",
            json!({
                "schemas": [USER_SCHEMA, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "userName": "cy@acme.example",
                "active": "True",
                "name": {"givenName": "Cy", "familyName": "Entra"},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Ops"},
            }),
        ),
        step("GET", "/Users/{ann}", None),
        step(
            "PUT",
            "/Users/{ann}",
            Some(okta_user("ann@acme.example", "Annie")),
        ),
        step(
            "PATCH",
            "/Users/{bob}",
            Some(patch(
                json!([{"op": "replace", "value": {"active": false}}]),
            )),
        ),
        step(
            "PATCH",
            "/Users/{cy}",
            Some(patch(json!([
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "title", "value": "Lead"},
            ]))),
        ),
        step(
            "GET",
            &format!("/Groups?{}", filter_query("displayName eq \"Engineering\"")),
            None,
        ),
        creates(
            "eng",
            "/Groups",
            json!({
                "schemas": [GROUP_SCHEMA],
                "displayName": "Engineering",
                "members": [{"value": "{ann}"}, {"value": "{bob}"}],
            }),
        ),
        step(
            "GET",
            &format!("/Groups?{}", filter_query("displayName eq \"Engineering\"")),
            None,
        ),
        step(
            "PATCH",
            "/Groups/{eng}",
            Some(patch(json!([
                {"op": "remove", "path": "members[value eq \"{bob}\"]"},
                {"op": "add", "path": "members", "value": [{"value": "{cy}"}]},
            ]))),
        ),
        step("GET", "/Groups/{eng}", None),
        step(
            "GET",
            "/Users?filter=active%20eq%20false&sortBy=userName",
            None,
        ),
        step("DELETE", "/Users/{bob}", None),
        step("GET", "/Users/{bob}", None),
        creates("bob2", "/Users", okta_user("bob@acme.example", "Bob")),
        step("GET", "/Users?sortBy=userName&count=10", None),
    ]
}

/// Runs the replay; each answer as (status, body) with ids named, the tenant's URL and the
/// times taken out, and the ids it got by name.
async fn run(scim: &Scim, tenant: TenantId) -> (Vec<(u16, Value)>, HashMap<&'static str, String>) {
    let mut ids: HashMap<&'static str, String> = HashMap::new();
    let mut answers = Vec::new();
    for step in replay() {
        let fill = |text: &str| {
            ids.iter().fold(text.to_owned(), |text, (name, id)| {
                text.replace(&format!("{{{name}}}"), id)
            })
        };
        let path = fill(&step.path);
        let body = step
            .body
            .as_ref()
            .map(|body| serde_json::from_str::<Value>(&fill(&body.to_string())).expect("body"));
        let response = match (step.method, body) {
            ("GET", _) => scim.get(&path).await,
            ("POST", Some(body)) => scim.post(&path, &body).await,
            ("PUT", Some(body)) => scim.put(&path, &body).await,
            ("PATCH", Some(body)) => scim.patch(&path, &body).await,
            ("DELETE", _) => scim.delete(&path).await,
            (method, _) => panic!("no body for {method}"),
        };
        if let Some(name) = step.names {
            ids.insert(name, response.id());
        }
        let mut text = response.text.clone();
        for (name, id) in &ids {
            text = text.replace(id.as_str(), &format!("{{{name}}}"));
        }
        text = text.replace(&tenant.to_string(), "{tenant}");
        let mut body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        strip_times(&mut body);
        answers.push((response.status, body));
    }
    (answers, ids)
}

/// Takes the times out, and puts members in name order (their order follows the random ids).
fn strip_times(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("created");
            map.remove("lastModified");
            if let Some(Value::Array(members)) = map.get_mut("members") {
                members.sort_by_key(|m| m["value"].as_str().unwrap_or_default().to_owned());
            }
            map.values_mut().for_each(strip_times);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_times),
        _ => {}
    }
}

#[tokio::test]
async fn shadow_answers_equal_live_answers_and_go_live_keeps_ids_and_loses_nothing() {
    let app = spawn_app().await;
    let (shadowed, shadow_scim) = app.other_tenant("Shadowed").await;
    let staging = start(&app, shadowed).await;

    let (live, _) = run(&app.scim, app.tenant).await;
    let (staged, ids) = run(&shadow_scim, shadowed).await;
    assert_eq!(live.len(), staged.len());
    for (n, (l, s)) in live.iter().zip(&staged).enumerate() {
        assert_eq!(l, s, "answer {n} differs between live and shadow");
    }
    assert_eq!(live[3].0, 409, "the conflicting create");

    // Nothing reached the directory meanwhile.
    let in_directory = app
        .query_json(&format!(
            "SELECT to_jsonb(count(*)) AS json FROM users WHERE tenant_id = '{shadowed}'"
        ))
        .await;
    assert_eq!(in_directory, [json!(0)]);

    // The review reads the shadow's activity log, which the event writer stores in the
    // background: wait (bounded) until the replay's requests are all in it.
    let mut review = across(&app, move |conn| {
        shadow::review(conn, shadowed, None, None, 100)
    })
    .await;
    for _ in 0..100 {
        if review.requests >= 20 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        review = across(&app, move |conn| {
            shadow::review(conn, shadowed, None, None, 100)
        })
        .await;
    }
    let counts: HashMap<String, i64> = review.counts.iter().cloned().collect();
    assert_eq!(
        counts.get("create"),
        Some(&3),
        "ann, cy and the second bob: {counts:?}"
    );
    assert_eq!(counts.get("group_create"), Some(&1));
    assert_eq!(review.members, (2, 0), "ann and cy join Engineering");
    assert!(review.requests >= 20);

    let users_before = shadow_scim.get("/Users?sortBy=userName").await.text;
    let groups_before = shadow_scim.get("/Groups").await.text;
    let applied: Applied = across(&app, move |conn| {
        shadow::go_live(conn, shadowed, &ADMIN, Utc::now())
    })
    .await;
    assert_eq!(applied.created, 3);
    assert_eq!(applied.groups_created, 1);
    assert_eq!(applied.members_added, 2);
    // The identity provider goes on with the ids it holds: the same answers, now live.
    assert_eq!(
        shadow_scim.get("/Users?sortBy=userName").await.text,
        users_before
    );
    assert_eq!(shadow_scim.get("/Groups").await.text, groups_before);
    shadow_scim
        .get(&format!("/Users/{}", ids["ann"]))
        .await
        .assert_status(200);
    let live_rows = app
        .query_json(&format!(
            "SELECT to_jsonb(count(*)) AS json FROM users WHERE tenant_id = '{shadowed}'"
        ))
        .await;
    assert_eq!(live_rows, [json!(3)]);
    let leftovers = app
        .query_json(&format!(
            "SELECT to_jsonb(count(*)) AS json FROM tenants WHERE id = '{staging}' OR shadow_of = '{shadowed}'"
        ))
        .await;
    assert_eq!(leftovers, [json!(0)], "the shadow is gone");
    let moved = app
        .query_json(&format!(
            "SELECT to_jsonb(count(*)) AS json FROM provisioning_events WHERE tenant_id = '{shadowed}' AND method <> 'CONSOLE'"
        ))
        .await;
    assert!(
        moved[0].as_i64().unwrap_or(0) >= 20,
        "the shadow's requests are in the activity log"
    );
}

#[tokio::test]
async fn shadow_changes_to_existing_users_are_reviewed_field_by_field_and_applied() {
    let app = spawn_app().await;
    let keep = app.create_user("keep@acme.example").await;
    let rename = app.create_user("rename@acme.example").await;
    let leave = app.create_user("leave@acme.example").await;
    let quit = app.create_user("quit@acme.example").await;
    let group = app.create_group("Staff", &[&keep, &leave]).await;
    let tenant = app.tenant;
    start(&app, tenant).await;

    app.patch_ops(
        &format!("/Users/{rename}"),
        json!([{"op": "replace", "path": "displayName", "value": "Renamed"}]),
    )
    .await
    .assert_status(200);
    app.patch_ops(
        &format!("/Users/{leave}"),
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .assert_status(200);
    app.delete(&format!("/Users/{quit}"))
        .await
        .assert_status(204);
    app.patch_ops(
        &format!("/Groups/{group}"),
        json!([{"op": "remove", "path": format!("members[value eq \"{leave}\"]")}]),
    )
    .await
    .assert_status(204);
    // Live, nothing changed.
    let live = app.user_row(&leave).await.expect("row");
    assert_eq!(live["active"], true);
    assert!(app.user_row(&quit).await.is_some());

    let review = across(&app, move |conn| {
        shadow::review(conn, tenant, None, None, 100)
    })
    .await;
    let kinds: HashMap<String, String> = review
        .changes
        .iter()
        .map(|c| (c.id.to_string(), c.kind.clone()))
        .collect();
    assert_eq!(kinds[&rename], "update");
    assert_eq!(kinds[&leave], "deactivate");
    assert_eq!(kinds[&quit], "delete");
    assert_eq!(kinds[&group], "group_update");
    assert!(!kinds.contains_key(&keep), "unchanged users are not listed");
    let renamed = review
        .changes
        .iter()
        .find(|c| c.id.to_string() == rename)
        .expect("rename");
    assert_eq!(
        renamed.staged.as_ref().expect("staged")["displayName"],
        "Renamed"
    );
    let searched = across(&app, move |conn| {
        shadow::review(conn, tenant, Some("renam"), None, 100)
    })
    .await;
    assert_eq!(searched.changes.len(), 1);

    let applied = across(&app, move |conn| {
        shadow::go_live(conn, tenant, &ADMIN, Utc::now())
    })
    .await;
    assert_eq!((applied.updated, applied.deleted), (2, 1));
    assert_eq!(applied.members_removed, 1);
    assert_eq!(app.user_row(&leave).await.expect("row")["active"], false);
    assert_eq!(
        app.user_row(&rename).await.expect("row")["display_name"],
        "Renamed"
    );
    assert!(app.user_row(&quit).await.is_none());
    let kept = app
        .query_json("SELECT to_jsonb(d.user_name) AS json FROM deleted_users d")
        .await;
    assert_eq!(kept, [json!("quit@acme.example")], "kept for restoring");
    let members = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(members.json["members"].as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn discard_drops_the_staged_changes() {
    let app = spawn_app().await;
    let tenant = app.tenant;
    start(&app, tenant).await;
    let staged = app.create_user("staged@acme.example").await;
    assert!(
        across(&app, move |conn| shadow::discard(
            conn,
            tenant,
            &ADMIN,
            Utc::now()
        ))
        .await
    );
    app.get(&format!("/Users/{staged}"))
        .await
        .assert_scim_error(404, None);
    assert_eq!(app.get(&lookup("staged@acme.example")).await.total(), 0);
    // Live again: a create reaches the directory.
    let live = app.create_user("live@acme.example").await;
    assert!(app.user_row(&live).await.is_some());
}

#[tokio::test]
async fn a_user_name_taken_live_meanwhile_stops_go_live_with_nothing_applied() {
    let app = spawn_app().await;
    let tenant = app.tenant;
    start(&app, tenant).await;
    app.create_user("clash@acme.example").await;
    app.create_user("fine@acme.example").await;
    // Created live (a CSV import, say) while the shadow runs.
    app.execute(&format!(
        "INSERT INTO users (tenant_id, id, user_name, active, source, attributes) \
         VALUES ('{tenant}', gen_random_uuid(), 'clash@acme.example', true, 'import', '{{}}')"
    ))
    .await;
    let refused = app
        .db()
        .run_across_tenants(CrossTenant::Shadow, move |conn| {
            shadow::go_live(conn, tenant, &ADMIN, Utc::now())
        })
        .await;
    match refused {
        Err(tenancy::Error::Invalid(message)) => {
            assert!(message.contains("clash@acme.example"), "{message}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    let live = app
        .query_json(&format!(
            "SELECT to_jsonb(count(*)) AS json FROM users WHERE tenant_id = '{tenant}'"
        ))
        .await;
    assert_eq!(live, [json!(1)], "nothing applied");
}
