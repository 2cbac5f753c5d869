//! `/Groups` edges: name uniqueness, members (unknown ids, re-adds, replace with `[]`, 1,000 in
//! one PATCH), projection, PUT, DELETE.

use serde_json::{Value, json};

use crate::helpers::{GROUP_SCHEMA, spawn_app, values_of};

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids = values_of(
        group["members"].as_array().map_or(&[][..], Vec::as_slice),
        "value",
    );
    ids.sort();
    ids
}

#[tokio::test]
async fn display_name_is_unique_regardless_of_case() {
    let app = spawn_app().await;
    app.create_group("Admins", &[]).await;
    app.post(
        "/Groups",
        &json!({"schemas": [GROUP_SCHEMA], "displayName": "ADMINS"}),
    )
    .await
    .assert_scim_error(409, Some("uniqueness"));
    let other = app.create_group("Others", &[]).await;
    app.patch_ops(
        &format!("/Groups/{other}"),
        json!([{"op": "replace", "path": "displayName", "value": "admins"}]),
    )
    .await
    .assert_scim_error(409, Some("uniqueness"));
    app.post("/Groups", &json!({"schemas": [GROUP_SCHEMA]}))
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn unknown_member_id_is_400_and_nothing_is_applied() {
    let app = spawn_app().await;
    let user = app.create_user("u@example.com").await;
    let missing = "4d3c8cc6-2b6f-4c26-9c0c-2c3b0cbbd3a5";

    for members in [
        json!([{"value": user}, {"value": missing}]),
        json!([{"value": "not-a-uuid"}]),
    ] {
        let response = app
            .post(
                "/Groups",
                &json!({"schemas": [GROUP_SCHEMA], "displayName": "G", "members": members}),
            )
            .await;
        response.assert_scim_error(400, Some("invalidValue"));
    }
    assert_eq!(app.get("/Groups").await.total(), 0, "no group was created");

    let group = app.create_group("G", &[]).await;
    let response = app
        .patch_ops(
            &format!("/Groups/{group}"),
            json!([
                {"op": "replace", "path": "displayName", "value": "Renamed"},
                {"op": "add", "path": "members", "value": [{"value": user}, {"value": missing}]}
            ]),
        )
        .await;
    let detail = response.assert_scim_error(400, Some("invalidValue"));
    assert!(detail.contains(missing), "{detail}");
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(g.json["displayName"], "G");
    assert_eq!(g.json["members"], json!([]));
}

#[tokio::test]
async fn re_adding_a_member_is_no_error_and_replace_with_empty_clears() {
    let app = spawn_app().await;
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let group = app.create_group("G", &[&a]).await;
    let path = format!("/Groups/{group}");

    app.patch_ops(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": a}, {"value": b}, {"value": b}]}]),
    )
    .await
    .assert_status(204);
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(member_ids(&app.get(&path).await.json), expected);

    // Removing someone who is not a member is no error either.
    app.patch_ops(
        &path,
        json!([{"op": "remove", "path": "members[value eq \"4d3c8cc6-2b6f-4c26-9c0c-2c3b0cbbd3a5\"]"}]),
    )
    .await
    .assert_status(204);
    assert_eq!(member_ids(&app.get(&path).await.json), expected);

    app.patch_ops(
        &path,
        json!([{"op": "replace", "path": "members", "value": []}]),
    )
    .await
    .assert_status(204);
    assert_eq!(app.get(&path).await.json["members"], json!([]));

    // Path-less add with members and a new name.
    app.patch_ops(
        &path,
        json!([{"op": "add", "value": {"members": [{"value": b}], "displayName": "G2"}}]),
    )
    .await
    .assert_status(204);
    let g = app.get(&path).await;
    assert_eq!(member_ids(&g.json), vec![b.clone()]);
    assert_eq!(g.json["displayName"], "G2");

    // Remove all members.
    app.patch_ops(&path, json!([{"op": "remove", "path": "members"}]))
        .await
        .assert_status(204);
    assert_eq!(app.get(&path).await.json["members"], json!([]));
}

#[tokio::test]
async fn a_thousand_members_in_one_patch() {
    let app = spawn_app().await;
    let names: Vec<String> = (0..1000).map(|i| format!("('{i}')")).collect();
    app.execute(&format!(
        "INSERT INTO users (tenant_id, id, user_name) \
         SELECT '{}', gen_random_uuid(), 'bulk' || n FROM (VALUES {}) AS v(n)",
        app.tenant,
        names.join(",")
    ))
    .await;
    let ids: Vec<String> = app
        .query_json(&format!(
            "SELECT to_jsonb(id::text) AS json FROM users WHERE tenant_id = '{}'",
            app.tenant
        ))
        .await
        .into_iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 1000);
    let group = app.create_group("Everyone", &[]).await;
    let members: Vec<Value> = ids.iter().map(|id| json!({"value": id})).collect();
    let started = std::time::Instant::now();
    app.patch_ops(
        &format!("/Groups/{group}"),
        json!([{"op": "add", "path": "members", "value": members}]),
    )
    .await
    .assert_status(204);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    let g = app.get(&format!("/Groups/{group}")).await;
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(member_ids(&g.json), expected);
    let found = app
        .get(&format!(
            "/Groups?filter=members%20eq%20%22{}%22&excludedAttributes=members",
            ids[500]
        ))
        .await;
    assert_eq!(values_of(&found.resources(), "id"), vec![group.clone()]);
}

#[tokio::test]
async fn excluded_members_and_attribute_projection() {
    let app = spawn_app().await;
    let a = app.create_user("a@example.com").await;
    let group = app.create_group("Projected", &[&a]).await;

    let lean = app
        .get(&format!("/Groups/{group}?excludedAttributes=members"))
        .await;
    assert!(lean.json.get("members").is_none());
    assert_eq!(lean.json["displayName"], "Projected");

    let list = app.get("/Groups?excludedAttributes=MEMBERS").await;
    assert!(list.resources()[0].get("members").is_none());

    let names = app.get("/Groups?attributes=displayName").await;
    let group_json = &names.resources()[0];
    assert!(group_json.get("members").is_none());
    assert_eq!(group_json["displayName"], "Projected");
    assert_eq!(group_json["id"], json!(group));

    let full = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(
        full.json["members"],
        json!([{"value": a, "$ref": format!("{}/Users/{a}", app.base()), "type": "User"}])
    );
    // members.display (readOnly, the member's name) is returned when asked for.
    let displayed = app
        .get(&format!(
            "/Groups/{group}?attributes=members.display,members.value"
        ))
        .await;
    assert_eq!(
        displayed.json["members"],
        json!([{"value": a, "display": "a@example.com"}])
    );
    let listed = app
        .get("/Groups?attributes=displayName,members.display")
        .await;
    assert_eq!(
        listed.resources()[0]["members"],
        json!([{"display": "a@example.com"}])
    );
}

#[tokio::test]
async fn put_replaces_name_and_members_and_delete_is_204_then_404() {
    let app = spawn_app().await;
    let a = app.create_user("a@example.com").await;
    let b = app.create_user("b@example.com").await;
    let group = app.create_group("Old", &[&a]).await;
    let path = format!("/Groups/{group}");

    let replaced = app
        .put(
            &path,
            &json!({"schemas": [GROUP_SCHEMA], "id": group, "displayName": "New", "members": [{"value": b}]}),
        )
        .await;
    replaced.assert_status(200);
    assert_eq!(replaced.json["displayName"], "New");
    assert_eq!(member_ids(&replaced.json), vec![b.clone()]);
    assert_eq!(
        replaced.header("etag").as_deref(),
        Some(replaced.str_at("/meta/version").as_str())
    );

    let user = app.get(&format!("/Users/{b}")).await;
    assert_eq!(user.json["groups"][0]["display"], "New");

    app.delete(&path).await.assert_status(204);
    app.get(&path).await.assert_scim_error(404, None);
    app.delete(&path).await.assert_scim_error(404, None);
    let user = app.get(&format!("/Users/{b}")).await;
    assert!(user.json.get("groups").is_none_or(|g| g == &json!([])));
    // The member is still there, only the membership went.
    assert_eq!(user.json["userName"], "b@example.com");
}

#[tokio::test]
async fn member_changes_bump_the_version() {
    let app = spawn_app().await;
    let a = app.create_user("a@example.com").await;
    let group = app.create_group("V", &[]).await;
    let path = format!("/Groups/{group}");
    let before = app.get(&path).await.str_at("/meta/version");
    app.patch_ops(
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": a}]}]),
    )
    .await
    .assert_status(204);
    let after = app.get(&path).await;
    assert_ne!(after.str_at("/meta/version"), before);
    assert_eq!(after.header("etag"), Some(after.str_at("/meta/version")));
}

#[tokio::test]
async fn group_unknown_attributes_are_kept() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/Groups",
            &json!({"schemas": [GROUP_SCHEMA], "displayName": "Custom", "description": "kept", "urn:example:ext:2.0:Group": {"colour": "red"}}),
        )
        .await;
    created.assert_status(201);
    let fetched = app.get(&format!("/Groups/{}", created.id())).await;
    assert_eq!(fetched.json["description"], "kept");
    assert_eq!(
        fetched.json["urn:example:ext:2.0:Group"],
        json!({"colour": "red"})
    );
}

#[tokio::test]
async fn member_inserts_racing_a_delete_are_client_errors_not_500s() {
    let app = spawn_app().await;
    let user = app.create_user("u@example.com").await;
    let group = app.create_group("G", &[]).await;
    let tenant = app.tenant;
    let (user_id, group_id): (tenancy::UserId, tenancy::GroupId) = (
        user.parse().expect("user id"),
        group.parse().expect("group id"),
    );
    // What add_members meets when the user or the group is deleted between the service's
    // existence check and the insert: the foreign keys. (Each in a unit of work of its own: a
    // failed statement ends its transaction.)
    let missing_user = app
        .db()
        .run(tenant, move |conn| {
            Ok::<_, tenancy::Error>(tenancy::directory::groups::add_members(
                conn,
                tenant,
                group_id,
                &[tenancy::UserId::new_random()],
            ))
        })
        .await
        .expect("run");
    let missing_group = app
        .db()
        .run(tenant, move |conn| {
            Ok::<_, tenancy::Error>(tenancy::directory::groups::add_members(
                conn,
                tenant,
                tenancy::GroupId::new_random(),
                &[user_id],
            ))
        })
        .await
        .expect("run");
    let outcome = (missing_user, missing_group);
    assert!(
        matches!(outcome.0, Err(tenancy::Error::Invalid(_))),
        "{:?}",
        outcome.0
    );
    assert!(
        matches!(outcome.1, Err(tenancy::Error::NotFound)),
        "{:?}",
        outcome.1
    );
}

#[tokio::test]
async fn rename_with_another_id_is_mutability_and_if_match_guards_groups() {
    let app = spawn_app().await;
    let group = app.create_group("Named", &[]).await;
    let path = format!("/Groups/{group}");
    app.patch_ops(
        &path,
        json!([{"op": "replace", "value": {"id": "4d3c8cc6-2b6f-4c26-9c0c-2c3b0cbbd3a5", "displayName": "Hijack"}}]),
    )
    .await
    .assert_scim_error(400, Some("mutability"));
    assert_eq!(app.get(&path).await.json["displayName"], "Named");

    let version = app.get(&path).await.str_at("/meta/version");
    let rename = crate::helpers::patch_body(
        json!([{"op": "replace", "path": "displayName", "value": "Renamed"}]),
    )
    .to_string();
    app.send(
        reqwest::Method::PATCH,
        &path,
        Some(rename.clone()),
        &[("If-Match", "W/\"41\"")],
    )
    .await
    .assert_scim_error(412, None);
    app.send(
        reqwest::Method::PATCH,
        &path,
        Some(rename),
        &[("If-Match", version.as_str())],
    )
    .await
    .assert_status(204);
    app.send(
        reqwest::Method::DELETE,
        &path,
        None,
        &[("If-Match", version.as_str())],
    )
    .await
    .assert_scim_error(412, None);
    assert_eq!(app.get(&path).await.json["displayName"], "Renamed");
}
