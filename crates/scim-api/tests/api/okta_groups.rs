//! Okta replay, groups: Push Groups with members, membership add, remove and replace, rename
//! with the id repeated, and "Find groups by name" with names Okta must encode.

use serde_json::json;

use crate::helpers::{GROUP_SCHEMA, encode, spawn_app, values_of};
use crate::okta::okta_user;

#[tokio::test]
async fn group_push_membership_and_rename() {
    let app = spawn_app().await;
    let user = app
        .post("/Users", &okta_user("test.user@okta.local"))
        .await
        .id();
    let other = app.create_user("other@okta.local").await;

    // Push Groups: "Create the Group" with its members.
    let created = app
        .post(
            "/Groups",
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Test SCIMv2",
                "members": [{"value": user, "display": "test.user@okta.local"}]
            }),
        )
        .await;
    created.assert_status(201);
    let group = created.id();
    assert_eq!(
        created.header("location").as_deref(),
        Some(created.str_at("/meta/location").as_str())
    );
    assert_eq!(created.json["schemas"], json!([GROUP_SCHEMA]));
    assert_eq!(created.json["members"][0]["value"], json!(user));
    assert!(
        created.json["members"][0].get("display").is_none(),
        "members.display is returned on request only"
    );
    let displayed = app
        .get(&format!(
            "/Groups/{group}?attributes=members.value,members.display"
        ))
        .await;
    assert_eq!(
        displayed.json["members"],
        json!([{"value": user, "display": "Test User"}])
    );

    // The user's groups are derived from the membership.
    let u = app.get(&format!("/Users/{user}")).await;
    assert_eq!(u.json["groups"][0]["value"], json!(group));
    assert_eq!(u.json["groups"][0]["display"], "Test SCIMv2");

    // "Update Group Memberships": add.
    app.patch_ops(
        &format!("/Groups/{group}"),
        json!([{"op": "add", "path": "members", "value": [{"value": other, "display": "other@okta.local"}]}]),
    )
    .await
    .assert_status(204);
    let g = app.get(&format!("/Groups/{group}")).await;
    let mut members = values_of(g.json["members"].as_array().expect("members"), "value");
    members.sort();
    let mut expected = vec![user.clone(), other.clone()];
    expected.sort();
    assert_eq!(members, expected);

    // Remove.
    app.patch_ops(
        &format!("/Groups/{group}"),
        json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]),
    )
    .await
    .assert_status(204);
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(
        values_of(g.json["members"].as_array().expect("members"), "value"),
        vec![other.clone()]
    );
    assert!(
        app.get(&format!("/Users/{user}"))
            .await
            .json
            .get("groups")
            .is_none_or(|g| g == &json!([]))
    );

    // Okta's replace of the whole member list.
    app.patch_ops(
        &format!("/Groups/{group}"),
        json!([{"op": "replace", "path": "members", "value": [{"value": user, "display": "test.user@okta.local"}]}]),
    )
    .await
    .assert_status(204);
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(
        values_of(g.json["members"].as_array().expect("members"), "value"),
        vec![user.clone()]
    );

    // "Update Group Name": a path-less replace that repeats the id.
    app.patch_ops(
        &format!("/Groups/{group}"),
        json!([{"op": "replace", "value": {"id": group, "displayName": "Test SCIMv2 renamed"}}]),
    )
    .await
    .assert_status(204);
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(g.json["displayName"], "Test SCIMv2 renamed");
    assert_eq!(g.json["members"].as_array().map(Vec::len), Some(1));

    // Okta reads a group without its members.
    let lean = app
        .get(&format!("/Groups/{group}?excludedAttributes=members"))
        .await;
    lean.assert_status(200);
    assert!(lean.json.get("members").is_none());
    assert_eq!(lean.json["displayName"], "Test SCIMv2 renamed");

    // "Delete a Group".
    app.delete(&format!("/Groups/{group}"))
        .await
        .assert_status(204);
    app.get(&format!("/Groups/{group}"))
        .await
        .assert_scim_error(404, None);
}

#[tokio::test]
async fn find_groups_by_name_with_spaces_ampersands_and_pluses() {
    let app = spawn_app().await;
    let names = ["Sales & Marketing", "R+D Team", "Ops", "Sales"];
    let mut ids = Vec::new();
    for name in names {
        ids.push(app.create_group(name, &[]).await);
    }
    for (name, id) in names.iter().zip(&ids) {
        let path = format!(
            "/Groups?filter={}&startIndex=1&count=100",
            encode(&format!("displayName eq \"{name}\""))
        );
        let found = app.get(&path).await;
        found.assert_status(200);
        assert_eq!(found.total(), 1, "{name}: {}", found.text);
        assert_eq!(found.resources()[0]["id"], json!(id), "{name}");
        assert_eq!(found.resources()[0]["displayName"], json!(name));
    }
    let none = app
        .get(&format!(
            "/Groups?filter={}",
            encode("displayName eq \"Sales &\"")
        ))
        .await;
    assert_eq!(none.total(), 0);
}
