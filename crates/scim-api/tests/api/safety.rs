//! Safe provisioning through the SCIM API: pause and emergency revoke, reversible deletion,
//! the deprovisioning circuit breaker with Undo, and the adoption of users SCIM does not manage
//! under each setting.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use tenancy::TenantId;
use tenancy::notifications::SpikeThreshold;
use tenancy::safety::adoption::{self, Adoption};
use tenancy::safety::{breaker, deleted, pause};

use crate::helpers::{TestApp, USER_SCHEMA, filter_query, spawn_app};
use crate::okta::okta_user;

const ADMIN_EMAIL: &str = "owner@acme.example";
static ADMIN: std::sync::LazyLock<tenancy::audit::Actor> =
    std::sync::LazyLock::new(|| tenancy::audit::Actor {
        email: ADMIN_EMAIL.into(),
        ..tenancy::audit::Actor::operator()
    });

/// Runs one tenancy unit of work for the app's tenant, then makes this server act on any
/// announcement it sent (as the console's server does before it answers).
async fn as_admin<T: Send + 'static>(
    app: &TestApp,
    work: impl FnOnce(&mut tenancy::PgConnection, TenantId) -> Result<T, tenancy::Error>
    + Send
    + 'static,
) -> T {
    let tenant = app.tenant;
    let done = app
        .db()
        .run(tenant, move |conn| work(conn, tenant))
        .await
        .expect("admin action");
    app.tokens.catch_up(app.db()).await.expect("caught up");
    done
}

fn lookup(user_name: &str) -> String {
    format!(
        "/Users?{}",
        filter_query(&format!("userName eq \"{user_name}\""))
    )
}

#[tokio::test]
async fn a_paused_tenant_answers_503_with_retry_after_and_resuming_loses_nothing() {
    let app = spawn_app().await;
    let before = app.create_user("before@acme.example").await;

    assert!(as_admin(&app, |conn, t| pause::pause(conn, t, &ADMIN, Utc::now())).await);
    let refused = app.post("/Users", &okta_user("during@acme.example")).await;
    let detail = refused.assert_scim_error(503, None);
    assert!(detail.contains("paused"), "{detail}");
    assert_eq!(
        refused.header("retry-after").as_deref(),
        Some(pause::PAUSED_RETRY_AFTER_SECONDS.to_string().as_str())
    );
    app.get(&format!("/Users/{before}"))
        .await
        .assert_scim_error(503, None);
    assert!(
        app.query_json(&format!(
            "SELECT to_jsonb(u.id) AS json FROM users u WHERE tenant_id = '{}' AND user_name = 'during@acme.example'",
            app.tenant
        ))
        .await
        .is_empty(),
        "nothing sent while paused was applied"
    );
    // Pausing twice changes nothing.
    assert!(!as_admin(&app, |conn, t| pause::pause(conn, t, &ADMIN, Utc::now())).await);

    assert!(as_admin(&app, |conn, t| pause::resume(conn, t, &ADMIN, Utc::now())).await);
    app.post("/Users", &okta_user("during@acme.example"))
        .await
        .assert_status(201);
    let events = app.wait_for_events(4).await;
    let paused: Vec<&Value> = events.iter().filter(|e| e["status"] == 503).collect();
    assert_eq!(
        paused.len(),
        2,
        "the paused requests are in the activity log"
    );
    let actions: Vec<&str> = events
        .iter()
        .filter(|e| e["operation"] == "admin")
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(actions, ["Paused provisioning", "Resumed provisioning"]);
}

#[tokio::test]
async fn revoking_all_tokens_refuses_every_one_of_them_at_once() {
    let app = spawn_app().await;
    app.get("/Users").await.assert_status(200);
    let revoked = as_admin(&app, |conn, t| {
        pause::revoke_all(conn, t, &ADMIN, Utc::now())
    })
    .await;
    assert_eq!(revoked, 1);
    app.get("/Users").await.assert_scim_error(401, None);
}

/// Gives the user a badge card and puts it in a new group; returns the group's id.
async fn with_card_and_group(app: &TestApp, user: &str, card: &str) -> String {
    app.execute(&format!(
        "INSERT INTO cards (tenant_id, id, user_id, card_number, source, created_at) \
         VALUES ('{}', gen_random_uuid(), '{user}', '{card}', 'console', now())",
        app.tenant
    ))
    .await;
    app.create_group(&format!("Group of {card}"), &[user]).await
}

#[tokio::test]
async fn a_deleted_user_is_gone_from_scim_frees_its_user_name_and_comes_back_with_its_id() {
    let app = spawn_app().await;
    let id = app.create_user("leaver@acme.example").await;
    let group = with_card_and_group(&app, &id, "C-100").await;

    app.delete(&format!("/Users/{id}")).await.assert_status(204);
    app.get(&format!("/Users/{id}"))
        .await
        .assert_scim_error(404, None);
    assert_eq!(app.get(&lookup("leaver@acme.example")).await.total(), 0);
    assert!(app.user_row(&id).await.is_none(), "not in the directory");
    let group_now = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(group_now.json["members"], json!([]), "{}", group_now.text);
    let cards = app
        .query_json("SELECT to_jsonb(c.card_number) AS json FROM cards c")
        .await;
    assert!(cards.is_empty(), "its card stops working");

    // The userName is free: a new user takes it; the kept one cannot come back meanwhile.
    let newcomer = app.create_user("leaver@acme.example").await;
    assert_ne!(newcomer, id);
    let kept: tenancy::UserId = id.parse().expect("id");
    let restored = as_admin(&app, move |conn, t| {
        deleted::restore(conn, t, &[kept], Utc::now())
    })
    .await;
    assert!(restored.is_empty(), "its userName is taken");

    app.delete(&format!("/Users/{newcomer}"))
        .await
        .assert_status(204);
    let restored = as_admin(&app, move |conn, t| {
        deleted::restore(conn, t, &[kept], Utc::now())
    })
    .await;
    assert_eq!(restored, [kept]);
    let back = app.get(&format!("/Users/{id}")).await;
    back.assert_status(200);
    assert_eq!(back.json["userName"], "leaver@acme.example");
    assert_eq!(back.json["groups"][0]["value"], group);
    let cards = app
        .query_json("SELECT to_jsonb(c.card_number) AS json FROM cards c")
        .await;
    assert_eq!(cards, [json!("C-100")]);
    let listed = as_admin(&app, |conn, t| deleted::list(conn, t, None, 10)).await;
    assert_eq!(
        listed.iter().map(|d| d.id.to_string()).collect::<Vec<_>>(),
        [newcomer],
        "the restored user is no longer kept; the newcomer is"
    );
}

#[tokio::test]
async fn deleted_users_are_purged_after_their_retention_unless_a_trip_holds_them() {
    let app = spawn_app().await;
    let id = app.create_user("old@acme.example").await;
    app.delete(&format!("/Users/{id}")).await.assert_status(204);
    let row = &app
        .query_json("SELECT to_jsonb(d) AS json FROM deleted_users d")
        .await[0];
    let purge_after: chrono::DateTime<Utc> =
        serde_json::from_value(row["purge_after"].clone()).expect("time");
    let deleted_at: chrono::DateTime<Utc> =
        serde_json::from_value(row["deleted_at"].clone()).expect("time");
    assert_eq!(
        (purge_after - deleted_at).num_days(),
        30,
        "the default retention"
    );

    // An open trip since before the deletion holds it past its retention.
    app.execute(&format!(
        "INSERT INTO breaker_trips (tenant_id, id, started_at, tripped_at, active_before, threshold) \
         VALUES ('{}', gen_random_uuid(), now() - interval '1 minute', now(), 100, 50)",
        app.tenant
    ))
    .await;
    let later = Utc::now() + Duration::days(31);
    let purge = |db: tenancy::Db| async move {
        db.run_across_tenants(tenancy::CrossTenant::Maintenance, move |conn| {
            tenancy::maintenance::retention::purge_batch(
                conn,
                later,
                tenancy::maintenance::Retention::default(),
            )
        })
        .await
        .expect("purge")
        .expect("not locked")
        .0
        .deleted_users
    };
    assert_eq!(purge(app.db().clone()).await, 0, "held by the trip");
    app.execute("UPDATE breaker_trips SET acknowledged_at = now()")
        .await;
    assert_eq!(purge(app.db().clone()).await, 1);
}

/// Deactivates with Okta's PATCH.
async fn deactivate(app: &TestApp, id: &str) {
    app.patch_ops(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .assert_status(200);
}

/// Runs the notifications' decision for the tenant now (which opens the breaker's trip).
async fn notice(app: &TestApp) {
    as_admin(app, |conn, t| {
        tenancy::notifications::occasions::notice(
            conn,
            t,
            SpikeThreshold::default(),
            false,
            Utc::now(),
        )
    })
    .await;
}

#[tokio::test]
async fn undo_restores_exactly_the_tripped_batch_including_deletes_during_the_trip() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..70 {
        ids.push(app.create_user(&format!("u{n:02}@acme.example")).await);
    }
    // Deactivated two days ago, before the run: Undo must leave it so, even when the run
    // deletes it.
    let earlier = app.create_user("earlier@acme.example").await;
    app.execute(&format!(
        "UPDATE users SET active = false, deactivated_at = now() - interval '2 days' WHERE id = '{earlier}'"
    ))
    .await;
    let group = with_card_and_group(&app, &ids[0], "C-1").await;

    // 49 deactivations and 2 deletions: 51 > the floor of 50.
    for id in &ids[..49] {
        deactivate(&app, id).await;
    }
    app.delete(&format!("/Users/{}", ids[0]))
        .await
        .assert_status(204);
    app.delete(&format!("/Users/{earlier}"))
        .await
        .assert_status(204);
    notice(&app).await;
    let trip = as_admin(&app, breaker::open_trip)
        .await
        .expect("the breaker tripped");
    assert_eq!(trip.threshold, 50);

    // Deletions keep arriving while it is tripped, concurrently.
    let during: Vec<String> = ids[60..65].to_vec();
    let deletes: Vec<_> = during
        .iter()
        .map(|id| {
            let (scim, path) = (app.scim.clone(), format!("/Users/{id}"));
            tokio::spawn(async move { scim.delete(&path).await.status })
        })
        .collect();
    for delete in deletes {
        assert_eq!(delete.await.expect("delete task"), 204);
    }
    // The notification pass again: still one trip.
    notice(&app).await;
    let trips = app
        .query_json("SELECT to_jsonb(t.id) AS json FROM breaker_trips t")
        .await;
    assert_eq!(trips.len(), 1);

    let batch = as_admin(&app, move |conn, t| {
        breaker::batch(conn, t, &trip, Utc::now())
    })
    .await;
    assert_eq!(
        batch.len(),
        49 + 1 + 5,
        "49 deactivated, earlier deleted, 5 deleted"
    );
    let trip_id = trips[0].as_str().expect("id").parse().expect("uuid");
    let undone = as_admin(&app, move |conn, t| {
        breaker::undo(conn, t, trip_id, &ADMIN, Utc::now())
    })
    .await;
    assert_eq!(
        undone,
        breaker::Undone {
            reactivated: 49,
            restored: 1 + 1 + 5,
            not_restored: 0,
        }
    );
    for (n, id) in ids.iter().enumerate() {
        app.get(&format!("/Users/{id}")).await.assert_status(200);
        let row = app.user_row(id).await.expect("row");
        assert_eq!(row["active"], true, "user {n}");
    }
    let earlier_now = app.get(&format!("/Users/{earlier}")).await;
    assert_eq!(
        earlier_now.json["active"], false,
        "as it was before the run"
    );
    assert_eq!(
        app.get(&format!("/Users/{}", ids[0])).await.json["groups"][0]["value"],
        group
    );
    assert!(
        app.query_json("SELECT to_jsonb(d.user_id) AS json FROM deleted_users d")
            .await
            .is_empty()
    );
    let history = app
        .query_json(&format!(
            "SELECT to_jsonb(e.path) AS json FROM provisioning_events e \
             WHERE e.operation = 'admin' AND e.resource_id = '{}'",
            ids[1]
        ))
        .await;
    assert_eq!(history, [json!("Reactivated by Undo")]);
    assert!(
        as_admin(&app, move |conn, t| breaker::acknowledge(
            conn,
            t,
            trip_id,
            &ADMIN,
            Utc::now()
        ))
        .await
    );
    assert!(as_admin(&app, breaker::open_trip).await.is_none());
}

#[tokio::test]
async fn a_run_under_the_threshold_trips_nothing() {
    let app = spawn_app().await;
    for n in 0..50 {
        let id = app.create_user(&format!("u{n}@acme.example")).await;
        deactivate(&app, &id).await;
    }
    notice(&app).await;
    assert!(
        as_admin(&app, breaker::open_trip).await.is_none(),
        "50 is the floor, not past it"
    );
}

/// A user created by a CSV import.
async fn imported(app: &TestApp, user_name: &str, email: &str) -> String {
    let rows = app
        .query_json(&format!(
            "INSERT INTO users (tenant_id, id, user_name, email, active, source, attributes) \
             VALUES ('{}', gen_random_uuid(), '{user_name}', '{email}', true, 'import', \
               '{{\"userName\": \"{user_name}\"}}') RETURNING to_jsonb(id) AS json",
            app.tenant
        ))
        .await;
    rows[0].as_str().expect("id").to_owned()
}

async fn set_adoption(app: &TestApp, mode: Adoption) {
    as_admin(app, move |conn, t| {
        adoption::set_mode(conn, t, mode, &ADMIN, Utc::now())
    })
    .await;
}

fn idp_user(user_name: &str, email: &str) -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": {"givenName": "Ida", "familyName": "Provider"},
        "emails": [{"primary": true, "value": email, "type": "work"}],
        "active": true,
    })
}

#[tokio::test]
async fn ask_me_holds_a_match_for_review_and_the_retry_after_link_finds_the_user() {
    let app = spawn_app().await;
    let existing = imported(&app, "ida@acme.example", "ida@acme.example").await;

    // Hidden from the identity provider's lookups and lists.
    assert_eq!(app.get(&lookup("ida@acme.example")).await.total(), 0);
    assert_eq!(app.get("/Users").await.total(), 0);
    app.get(&format!("/Users/{existing}"))
        .await
        .assert_scim_error(404, None);
    let held = app
        .post("/Users", &idp_user("ida@acme.example", "ida@acme.example"))
        .await;
    let detail = held.assert_scim_error(409, Some("uniqueness"));
    assert!(detail.contains("review"), "{detail}");
    app.post("/Users", &idp_user("ida@acme.example", "ida@acme.example"))
        .await
        .assert_status(409);
    let conflicts = as_admin(&app, |conn, t| adoption::conflicts(conn, t, 10)).await;
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].existing.id.to_string(), existing);
    assert_eq!(conflicts[0].held.attempts, 2);
    assert_eq!(conflicts[0].held.payload["name"]["givenName"], "Ida");

    let user: tenancy::UserId = existing.parse().expect("id");
    let linked = as_admin(&app, move |conn, t| {
        adoption::link(conn, t, user, &ADMIN, Utc::now())
    })
    .await;
    assert_eq!(linked.linked_by.as_deref(), Some(ADMIN_EMAIL));
    assert!(linked.linked_at.is_some());
    // Okta's retry: the lookup finds it now, with the identity provider's fields.
    let found = app.get(&lookup("ida@acme.example")).await;
    assert_eq!(found.total(), 1);
    assert_eq!(found.resources()[0]["id"], existing);
    assert_eq!(found.resources()[0]["name"]["givenName"], "Ida");
    assert!(
        as_admin(&app, |conn, t| adoption::conflicts(conn, t, 10))
            .await
            .is_empty()
    );
}

#[tokio::test]
async fn kept_separate_refuses_the_user_name_but_not_a_new_user_with_the_same_email() {
    let app = spawn_app().await;
    let by_name = imported(&app, "sam@acme.example", "sam@acme.example").await;
    let by_email = imported(&app, "badge-17", "kim@acme.example").await;

    app.post("/Users", &idp_user("sam@acme.example", "sam@acme.example"))
        .await
        .assert_status(409);
    let detail = app
        .post("/Users", &idp_user("kim@acme.example", "kim@acme.example"))
        .await
        .assert_scim_error(409, Some("uniqueness"));
    assert!(detail.contains("e-mail"), "{detail}");
    for id in [&by_name, &by_email] {
        let user: tenancy::UserId = id.parse().expect("id");
        as_admin(&app, move |conn, t| {
            adoption::keep_separate(conn, t, user, &ADMIN, Utc::now())
        })
        .await;
    }
    let detail = app
        .post("/Users", &idp_user("sam@acme.example", "sam@acme.example"))
        .await
        .assert_scim_error(409, Some("uniqueness"));
    assert!(detail.contains("keep separate"), "{detail}");
    let separate = app
        .post("/Users", &idp_user("kim@acme.example", "kim@acme.example"))
        .await;
    separate.assert_status(201);
    assert_ne!(separate.id(), by_email);
}

#[tokio::test]
async fn link_automatically_answers_the_create_with_the_existing_user() {
    let app = spawn_app().await;
    set_adoption(&app, Adoption::Link).await;
    let existing = imported(&app, "lee@acme.example", "lee@acme.example").await;
    assert_eq!(app.get(&lookup("lee@acme.example")).await.total(), 1);

    let created = app
        .post("/Users", &idp_user("lee@acme.example", "lee@acme.example"))
        .await;
    created.assert_status(201);
    assert_eq!(created.id(), existing);
    assert_eq!(created.json["name"]["familyName"], "Provider");
    let row = app.user_row(&existing).await.expect("row");
    assert_eq!(row["source"], "scim");
    assert_eq!(row["linked_by"], "automatic");
    let events = app.wait_for_events(3).await;
    assert!(
        events
            .iter()
            .any(|e| e["status"] == 201 && e["resource_id"] == existing.as_str()),
        "the create is recorded about the linked user"
    );
}

#[tokio::test]
async fn refuse_answers_409_and_keeps_no_review() {
    let app = spawn_app().await;
    set_adoption(&app, Adoption::Refuse).await;
    imported(&app, "rae@acme.example", "rae@acme.example").await;
    let detail = app
        .post("/Users", &idp_user("rae@acme.example", "rae@acme.example"))
        .await
        .assert_scim_error(409, Some("uniqueness"));
    assert!(detail.contains("does not link"), "{detail}");
    assert!(
        as_admin(&app, |conn, t| adoption::conflicts(conn, t, 10))
            .await
            .is_empty()
    );
    // An e-mail match alone does not stop a create under Refuse: the new user is separate.
    imported(&app, "badge-9", "ron@acme.example").await;
    app.post("/Users", &idp_user("ron@acme.example", "ron@acme.example"))
        .await
        .assert_status(201);
}
