//! Discovery: ServiceProviderConfig, ResourceTypes and Schemas, truthful and authenticated.

use serde_json::{Value, json};

use crate::helpers::{ENTERPRISE, GROUP_SCHEMA, LIST_SCHEMA, USER_SCHEMA, spawn_app};

#[tokio::test]
async fn service_provider_config_is_truthful() {
    let app = spawn_app().await;
    let response = app.get("/ServiceProviderConfig").await;
    response.assert_status(200);
    assert_eq!(
        response.header("content-type").as_deref(),
        Some("application/scim+json")
    );
    let config = &response.json;
    assert_eq!(
        config["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"])
    );
    assert_eq!(config["patch"]["supported"], true);
    assert_eq!(config["bulk"]["supported"], false);
    assert_eq!(
        config["filter"],
        json!({"supported": true, "maxResults": 1000})
    );
    assert_eq!(config["etag"]["supported"], true);
    assert_eq!(config["sort"]["supported"], true);
    assert_eq!(config["changePassword"]["supported"], false);
    let schemes = config["authenticationSchemes"].as_array().expect("schemes");
    assert_eq!(schemes.len(), 1);
    assert_eq!(schemes[0]["type"], "oauthbearertoken");
    assert!(schemes[0]["name"].is_string() && schemes[0]["description"].is_string());
    assert_eq!(
        config["meta"]["location"],
        json!(format!("{}/ServiceProviderConfig", app.base()))
    );
    // What it says about maxResults holds.
    for i in 0..3 {
        app.create_user(&format!("u{i}@example.com")).await;
    }
    let page = app.get("/Users?count=5000").await;
    page.assert_status(200);
    assert_eq!(page.resources().len(), 3);
}

#[tokio::test]
async fn resource_types_describe_users_and_groups() {
    let app = spawn_app().await;
    let response = app.get("/ResourceTypes").await;
    response.assert_status(200);
    assert_eq!(response.json["schemas"], json!([LIST_SCHEMA]));
    assert_eq!(response.total(), 2);
    let types = response.resources();
    let user = types.iter().find(|t| t["name"] == "User").expect("User");
    assert_eq!(user["endpoint"], "/Users");
    assert_eq!(user["schema"], USER_SCHEMA);
    assert_eq!(
        user["schemaExtensions"],
        json!([{"schema": ENTERPRISE, "required": false}])
    );
    let group = types.iter().find(|t| t["name"] == "Group").expect("Group");
    assert_eq!(group["endpoint"], "/Groups");
    assert_eq!(group["schema"], GROUP_SCHEMA);

    let one = app.get("/ResourceTypes/User").await;
    one.assert_status(200);
    assert_eq!(one.json["id"], "User");
    assert_eq!(
        one.json["meta"]["location"],
        json!(format!("{}/ResourceTypes/User", app.base()))
    );
    app.get("/ResourceTypes/Printer")
        .await
        .assert_scim_error(404, None);
}

fn attribute<'a>(schema: &'a Value, name: &str) -> &'a Value {
    schema["attributes"]
        .as_array()
        .and_then(|attrs| attrs.iter().find(|a| a["name"] == name))
        .unwrap_or_else(|| panic!("no attribute {name} in {}", schema["id"]))
}

#[tokio::test]
async fn schemas_cover_user_enterprise_user_and_group() {
    let app = spawn_app().await;
    let response = app.get("/Schemas").await;
    response.assert_status(200);
    assert_eq!(response.total(), 3);
    let schemas = response.resources();
    let ids: Vec<&str> = schemas.iter().filter_map(|s| s["id"].as_str()).collect();
    assert_eq!(ids, vec![USER_SCHEMA, ENTERPRISE, GROUP_SCHEMA]);

    let user = &schemas[0];
    let user_name = attribute(user, "userName");
    assert_eq!(user_name["uniqueness"], "server");
    assert_eq!(user_name["required"], true);
    assert_eq!(user_name["caseExact"], false);
    assert_eq!(attribute(user, "groups")["mutability"], "readOnly");
    assert_eq!(attribute(user, "password")["returned"], "never");
    assert_eq!(attribute(user, "emails")["multiValued"], true);
    let manager = attribute(&schemas[1], "manager");
    assert_eq!(manager["type"], "complex");
    let members = attribute(&schemas[2], "members");
    assert_eq!(members["multiValued"], true);

    for id in [USER_SCHEMA, ENTERPRISE, GROUP_SCHEMA] {
        let one = app.get(&format!("/Schemas/{id}")).await;
        one.assert_status(200);
        assert_eq!(one.json["id"], id);
        assert_eq!(
            one.json["meta"]["location"],
            json!(format!("{}/Schemas/{id}", app.base())),
            "{}",
            one.text
        );
        assert_eq!(one.json["meta"]["resourceType"], "Schema");
    }
    app.get("/Schemas/urn:example:nothing")
        .await
        .assert_scim_error(404, None);
}

#[tokio::test]
async fn discovery_requires_authentication_and_unknown_endpoints_are_scim_errors() {
    let app = spawn_app().await;
    let stranger = app.with_authorization(None);
    for path in [
        "/ServiceProviderConfig",
        "/ResourceTypes",
        "/ResourceTypes/User",
        "/Schemas",
        &format!("/Schemas/{USER_SCHEMA}"),
    ] {
        stranger.get(path).await.assert_scim_error(401, None);
    }
    app.get("/Printers").await.assert_scim_error(404, None);
    app.post("/Bulk", &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": []}))
        .await
        .assert_scim_error(501, None);
}

#[tokio::test]
async fn other_methods_are_405_with_allow() {
    let app = spawn_app().await;
    let id = app.create_user("m@example.com").await;
    let body = Some("{}".to_owned());
    for (method, path, allow) in [
        (
            reqwest::Method::POST,
            "/ServiceProviderConfig".to_owned(),
            "GET",
        ),
        (reqwest::Method::DELETE, "/ResourceTypes".to_owned(), "GET"),
        (reqwest::Method::PUT, "/Schemas".to_owned(), "GET"),
        (
            reqwest::Method::PATCH,
            format!("/Schemas/{USER_SCHEMA}"),
            "GET",
        ),
        (reqwest::Method::PUT, "/Users".to_owned(), "GET, POST"),
        (reqwest::Method::DELETE, "/Groups".to_owned(), "GET, POST"),
        (
            reqwest::Method::POST,
            format!("/Users/{id}"),
            "GET, PUT, PATCH, DELETE",
        ),
    ] {
        let response = app.send(method.clone(), &path, body.clone(), &[]).await;
        response.assert_scim_error(405, None);
        assert_eq!(
            response.header("allow").as_deref(),
            Some(allow),
            "{method} {path}"
        );
    }
    // Authentication comes first.
    app.with_authorization(None)
        .send(reqwest::Method::POST, "/Schemas", body, &[])
        .await
        .assert_scim_error(401, None);
    assert_eq!(
        app.get(&format!("/Users/{id}")).await.json["userName"],
        "m@example.com"
    );
}
