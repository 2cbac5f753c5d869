//! `/Users` edges: uniqueness, validation, mutability, unknown attributes, read-only groups,
//! DELETE, ETags and `If-Match`, projection, body limits.

use serde_json::json;

use crate::helpers::{USER_SCHEMA, spawn_app};

#[tokio::test]
async fn duplicate_user_name_differing_only_in_case_is_409() {
    let app = spawn_app().await;
    app.create_user("Bjensen@Example.com").await;
    let response = app
        .post(
            "/Users",
            &json!({"schemas": [USER_SCHEMA], "userName": "bjensen@example.COM"}),
        )
        .await;
    let detail = response.assert_scim_error(409, Some("uniqueness"));
    assert!(detail.contains("userName"), "{detail}");

    // A PUT or PATCH onto another user's name clashes too.
    let other = app.create_user("other@example.com").await;
    app.patch_ops(
        &format!("/Users/{other}"),
        json!([{"op": "replace", "path": "userName", "value": "BJENSEN@example.com"}]),
    )
    .await
    .assert_scim_error(409, Some("uniqueness"));
    app.put(
        &format!("/Users/{other}"),
        &json!({"schemas": [USER_SCHEMA], "userName": "bjensen@EXAMPLE.com"}),
    )
    .await
    .assert_scim_error(409, Some("uniqueness"));
}

#[tokio::test]
async fn missing_or_mistyped_user_name_is_400_invalid_value() {
    let app = spawn_app().await;
    for body in [
        json!({"schemas": [USER_SCHEMA], "displayName": "No Name"}),
        json!({"schemas": [USER_SCHEMA], "userName": ""}),
        json!({"schemas": [USER_SCHEMA], "userName": 42}),
        json!({"schemas": [USER_SCHEMA], "userName": null}),
    ] {
        let response = app.post("/Users", &body).await;
        let status = response.status;
        assert_eq!(status, 400, "{body}: {}", response.text);
        let scim_type = response.json["scimType"].as_str().unwrap_or_default();
        assert!(
            scim_type == "invalidValue",
            "{body}: scimType {scim_type}: {}",
            response.text
        );
    }
    assert_eq!(app.get("/Users").await.total(), 0, "nothing was created");
}

#[tokio::test]
async fn id_and_meta_are_immutable() {
    let app = spawn_app().await;
    let id = app.create_user("a@example.com").await;
    let path = format!("/Users/{id}");
    for ops in [
        json!([{"op": "replace", "path": "id", "value": "4d3c8cc6-2b6f-4c26-9c0c-2c3b0cbbd3a5"}]),
        json!([{"op": "replace", "value": {"id": "4d3c8cc6-2b6f-4c26-9c0c-2c3b0cbbd3a5"}}]),
        json!([{"op": "replace", "path": "meta.created", "value": "2020-01-01T00:00:00Z"}]),
        json!([{"op": "add", "path": "meta", "value": {"version": "W/\"9\""}}]),
        json!([{"op": "remove", "path": "id"}]),
    ] {
        let response = app.patch_ops(&path, ops.clone()).await;
        assert_eq!(response.status, 400, "{ops}: {}", response.text);
        assert_eq!(
            response.json["scimType"], "mutability",
            "{ops}: {}",
            response.text
        );
    }
    let response = app
        .put(
            &path,
            &json!({"schemas": [USER_SCHEMA], "id": "4d3c8cc6-2b6f-4c26-9c0c-2c3b0cbbd3a5", "userName": "a@example.com"}),
        )
        .await;
    response.assert_scim_error(400, Some("mutability"));
    assert_eq!(app.get(&path).await.id(), id);
}

#[tokio::test]
async fn unknown_attributes_and_other_extensions_are_kept() {
    let app = spawn_app().await;
    let custom = "urn:okta:custom:2.0:User";
    let body = json!({
        "schemas": [USER_SCHEMA, custom],
        "userName": "custom@example.com",
        "favouriteColour": "green",
        "costCentreCode": {"code": "X1", "region": "EMEA"},
        custom: {"badgeColour": "blue", "shoeSize": 43}
    });
    let created = app.post("/Users", &body).await;
    created.assert_status(201);
    let fetched = app.get(&format!("/Users/{}", created.id())).await;
    for response in [&created, &fetched] {
        assert_eq!(
            response.json["favouriteColour"], "green",
            "{}",
            response.text
        );
        assert_eq!(response.json["costCentreCode"], body["costCentreCode"]);
        assert_eq!(response.json[custom], body[custom], "{}", response.text);
        let schemas = response.json["schemas"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(schemas.contains(&json!(custom)), "{}", response.text);
        assert!(schemas.contains(&json!(USER_SCHEMA)));
    }
    let patched = app
        .patch_ops(
            &format!("/Users/{}", created.id()),
            json!([{"op": "replace", "path": format!("{custom}:badgeColour"), "value": "red"}]),
        )
        .await;
    patched.assert_status(200);
    assert_eq!(patched.json[custom]["badgeColour"], "red");
    assert_eq!(patched.json[custom]["shoeSize"], 43);
    assert_eq!(patched.json["favouriteColour"], "green");
}

#[tokio::test]
async fn groups_on_a_user_are_read_only_and_derived() {
    let app = spawn_app().await;
    let user = app.create_user("member@example.com").await;
    let group = app.create_group("Engineering", &[&user]).await;

    // Sent groups on create are ignored: only memberships count.
    let other = app
        .post(
            "/Users",
            &json!({"schemas": [USER_SCHEMA], "userName": "sneaky@example.com", "groups": [{"value": group}]}),
        )
        .await;
    other.assert_status(201);
    assert!(other.json.get("groups").is_none_or(|g| g == &json!([])));
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(g.json["members"].as_array().map(Vec::len), Some(1));

    let response = app
        .patch_ops(
            &format!("/Users/{user}"),
            json!([{"op": "add", "path": "groups", "value": [{"value": group}]}]),
        )
        .await;
    response.assert_scim_error(400, Some("mutability"));

    let fetched = app.get(&format!("/Users/{user}")).await;
    assert_eq!(
        fetched.json["groups"],
        json!([{
            "value": group,
            "display": "Engineering",
            "$ref": format!("{}/Groups/{group}", app.base()),
            "type": "direct"
        }])
    );
}

#[tokio::test]
async fn delete_is_204_then_404() {
    let app = spawn_app().await;
    let id = app.create_user("gone@example.com").await;
    let group = app.create_group("Team", &[&id]).await;
    let response = app.delete(&format!("/Users/{id}")).await;
    response.assert_status(204);
    assert!(response.text.is_empty());
    app.get(&format!("/Users/{id}"))
        .await
        .assert_scim_error(404, None);
    app.delete(&format!("/Users/{id}"))
        .await
        .assert_scim_error(404, None);
    app.patch_ops(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .assert_scim_error(404, None);
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(g.json["members"], json!([]), "memberships go with the user");
    // The userName is free again.
    app.create_user("gone@example.com").await;
}

#[tokio::test]
async fn put_replaces_and_drops_what_is_not_sent() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/Users",
            &json!({"schemas": [USER_SCHEMA], "userName": "put@example.com", "title": "Boss", "nickName": "B"}),
        )
        .await;
    let id = created.id();
    let replaced = app
        .put(
            &format!("/Users/{id}"),
            &json!({"schemas": [USER_SCHEMA], "userName": "put@example.com", "title": "Worker"}),
        )
        .await;
    replaced.assert_status(200);
    assert_eq!(replaced.json["title"], "Worker");
    assert!(replaced.json.get("nickName").is_none(), "{}", replaced.text);
    assert_eq!(
        replaced.json["meta"]["created"],
        created.json["meta"]["created"]
    );
    app.put(
        "/Users/4d3c8cc6-2b6f-4c26-9c0c-2c3b0cbbd3a5",
        &json!({"schemas": [USER_SCHEMA], "userName": "x@example.com"}),
    )
    .await
    .assert_scim_error(404, None);
}

#[tokio::test]
async fn active_can_be_unassigned_but_a_deactivated_user_always_shows_false() {
    let app = spawn_app().await;
    let id = app.create_user("plain@example.com").await;
    let path = format!("/Users/{id}");
    let fetched = app.get(&path).await;
    assert!(
        fetched.json.get("active").is_none(),
        "never sent: {}",
        fetched.text
    );
    assert_eq!(
        app.user_row(&id).await.expect("row")["active"],
        true,
        "counts as active"
    );

    let off = app
        .patch_ops(
            &path,
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(off.json["active"], false);
    // Removing `active` leaves it unassigned (RFC 7644 §3.5.2.2): the user counts as active.
    let removed = app
        .patch_ops(&path, json!([{"op": "remove", "path": "active"}]))
        .await;
    removed.assert_status(200);
    assert!(removed.json.get("active").is_none(), "{}", removed.text);
    assert_eq!(app.user_row(&id).await.expect("row")["active"], true);

    // A user deactivated outside SCIM (the console) shows active: false whatever it was sent.
    app.execute(&format!(
        "UPDATE users SET active = false WHERE id = '{id}'"
    ))
    .await;
    assert_eq!(app.get(&path).await.json["active"], false);
    let renamed = app
        .patch_ops(
            &path,
            json!([{"op": "replace", "path": "displayName", "value": "Still off"}]),
        )
        .await;
    assert_eq!(renamed.json["active"], false);
    assert_eq!(app.user_row(&id).await.expect("row")["active"], false);
}
