//! Microsoft Entra ID shapes, from Microsoft's "Develop and plan provisioning for a SCIM
//! endpoint" and its SCIM compliance notes: capitalised ops, string booleans, value-path
//! filters, dotted path-less keys, the enterprise extension and group member value arrays.

use serde_json::{Value, json};

use crate::helpers::{ENTERPRISE, USER_SCHEMA, encode, filter_query, spawn_app, values_of};

/// Entra's create-user request.
fn entra_user(user_name: &str) -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
        "userName": user_name,
        "active": true,
        "emails": [{
            "primary": true,
            "type": "work",
            "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"
        }],
        "meta": {"resourceType": "User"},
        "name": {
            "formatted": "givenName familyName",
            "familyName": "familyName",
            "givenName": "givenName"
        },
        "roles": []
    })
}

#[tokio::test]
async fn probe_with_a_random_guid_finds_nothing() {
    let app = spawn_app().await;
    let response = app
        .get(&format!(
            "/Users?{}",
            filter_query("userName eq \"ad7a5e1a-2b2c-4b8e-9f2b-4c9b5a1f4e77\"")
        ))
        .await;
    response.assert_status(200);
    assert_eq!(response.total(), 0);
    assert_eq!(response.resources(), Vec::<Value>::new());
}

#[tokio::test]
async fn create_and_find_by_user_name() {
    let app = spawn_app().await;
    let name = "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1";
    let created = app.post("/Users", &entra_user(name)).await;
    created.assert_status(201);
    assert_eq!(created.json["name"]["formatted"], "givenName familyName");
    assert_eq!(created.json["meta"]["resourceType"], "User");

    let found = app
        .get(&format!(
            "/Users?{}",
            filter_query(&format!("userName eq \"{name}\""))
        ))
        .await;
    assert_eq!(found.total(), 1);
    assert_eq!(found.resources()[0]["id"], json!(created.id()));
}

#[tokio::test]
async fn patch_with_capitalised_ops_value_paths_and_string_booleans() {
    let app = spawn_app().await;
    let id = app.post("/Users", &entra_user("Test_User_1")).await.id();
    let path = format!("/Users/{id}");

    let response = app
        .patch_ops(
            &path,
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
            ]),
        )
        .await;
    response.assert_status(200);
    assert_eq!(
        response.json["emails"],
        json!([{"primary": true, "type": "work", "value": "updatedEmail@microsoft.com"}])
    );
    assert_eq!(response.json["name"]["familyName"], "updatedFamilyName");
    assert_eq!(
        app.user_row(&id).await.expect("row")["email"],
        "updatedEmail@microsoft.com",
        "the queried email column follows the document"
    );

    let response = app
        .patch_ops(
            &path,
            json!([{"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]),
        )
        .await;
    response.assert_status(200);
    assert_eq!(
        response.json["userName"],
        "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    );

    let response = app
        .patch_ops(
            &path,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["active"], false);
    assert_eq!(app.user_row(&id).await.expect("row")["active"], false);

    let response = app
        .patch_ops(
            &path,
            json!([{"op": "Replace", "value": {"active": "True"}}]),
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["active"], true);
    assert_eq!(app.user_row(&id).await.expect("row")["active"], true);
}

#[tokio::test]
async fn pathless_add_with_dotted_keys_and_the_enterprise_extension() {
    let app = spawn_app().await;
    let manager = app.create_user("boss@contoso.com").await;
    let id = app.post("/Users", &entra_user("Test_User_2")).await.id();
    let path = format!("/Users/{id}");

    let response = app
        .patch_ops(
            &path,
            json!([{
                "op": "Add",
                "value": {
                    "displayName": "Barbara Jensen",
                    "name.givenName": "Barbara",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Tour Operations",
                    "nickName": "Babs"
                }
            }]),
        )
        .await;
    response.assert_status(200);
    assert_eq!(response.json["displayName"], "Barbara Jensen");
    assert_eq!(response.json["name"]["givenName"], "Barbara");
    assert_eq!(response.json["nickName"], "Babs");
    assert_eq!(response.json[ENTERPRISE]["employeeNumber"], "701984");
    assert_eq!(response.json[ENTERPRISE]["department"], "Tour Operations");
    assert_eq!(response.json["schemas"], json!([USER_SCHEMA, ENTERPRISE]));

    // Entra sets the manager with a bare id.
    let response = app
        .patch_ops(
            &path,
            json!([{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": manager}]),
        )
        .await;
    response.assert_status(200);
    assert_eq!(
        response.json[ENTERPRISE]["manager"]["value"],
        json!(manager)
    );

    // The extension can be filtered on.
    let found = app
        .get(&format!(
            "/Users?{}",
            filter_query(&format!("{ENTERPRISE}:employeeNumber eq \"701984\""))
        ))
        .await;
    found.assert_status(200);
    assert_eq!(values_of(&found.resources(), "id"), vec![id.clone()]);

    let response = app
        .patch_ops(
            &path,
            json!([{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]),
        )
        .await;
    response.assert_status(200);
    assert!(response.json[ENTERPRISE].get("manager").is_none());
    assert_eq!(response.json[ENTERPRISE]["employeeNumber"], "701984");
}

#[tokio::test]
async fn enterprise_extension_round_trips_on_create() {
    let app = spawn_app().await;
    let mut body = entra_user("Test_User_3");
    body[ENTERPRISE] = json!({"employeeNumber": "42", "costCenter": "4130", "organization": "Universal Studios", "division": "Theme Park", "department": "Tour Operations"});
    let created = app.post("/Users", &body).await;
    created.assert_status(201);
    assert_eq!(created.json["schemas"], json!([USER_SCHEMA, ENTERPRISE]));
    assert_eq!(created.json[ENTERPRISE], body[ENTERPRISE]);
    let fetched = app.get(&format!("/Users/{}", created.id())).await;
    assert_eq!(fetched.json[ENTERPRISE], body[ENTERPRISE]);
    assert_eq!(fetched.json["schemas"], json!([USER_SCHEMA, ENTERPRISE]));
}

#[tokio::test]
async fn groups_with_member_value_arrays_and_excluded_members() {
    let app = spawn_app().await;
    let a = app.create_user("a@contoso.com").await;
    let b = app.create_user("b@contoso.com").await;

    let created = app
        .post(
            "/Groups",
            &json!({
                "schemas": [
                    "urn:ietf:params:scim:schemas:core:2.0:Group",
                    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"
                ],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "displayName",
                "meta": {"resourceType": "Group"}
            }),
        )
        .await;
    created.assert_status(201);
    let group = created.id();
    assert_eq!(
        created.json["externalId"],
        "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"
    );

    let fetched = app
        .get(&format!("/Groups/{group}?excludedAttributes=members"))
        .await;
    fetched.assert_status(200);
    assert!(fetched.json.get("members").is_none());

    let found = app
        .get(&format!(
            "/Groups?excludedAttributes=members&filter={}",
            encode("displayName eq \"displayName\"")
        ))
        .await;
    found.assert_status(200);
    assert_eq!(found.total(), 1);
    assert_eq!(found.resources()[0]["id"], json!(group));
    assert!(found.resources()[0].get("members").is_none());

    app.patch_ops(
        &format!("/Groups/{group}"),
        json!([{"op": "Add", "path": "members", "value": [{"$ref": null, "value": a}, {"$ref": null, "value": b}]}]),
    )
    .await
    .assert_status(204);
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(g.json["members"].as_array().map(Vec::len), Some(2));

    app.patch_ops(
        &format!("/Groups/{group}"),
        json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": a}]}]),
    )
    .await
    .assert_status(204);
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(
        values_of(g.json["members"].as_array().expect("members"), "value"),
        vec![b.clone()]
    );

    app.patch_ops(
        &format!("/Groups/{group}"),
        json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]),
    )
    .await
    .assert_status(204);
    let g = app.get(&format!("/Groups/{group}")).await;
    assert_eq!(
        g.json["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );
    assert_eq!(g.json["members"].as_array().map(Vec::len), Some(1));

    app.delete(&format!("/Groups/{group}"))
        .await
        .assert_status(204);
}

#[tokio::test]
async fn disable_then_delete() {
    let app = spawn_app().await;
    let id = app.post("/Users", &entra_user("Test_User_4")).await.id();
    app.patch_ops(
        &format!("/Users/{id}"),
        json!([{"op": "Replace", "path": "active", "value": false}]),
    )
    .await
    .assert_status(200);
    app.delete(&format!("/Users/{id}")).await.assert_status(204);
    app.get(&format!("/Users/{id}"))
        .await
        .assert_scim_error(404, None);
}
