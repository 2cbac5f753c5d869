//! Discovery documents (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas, truthful
//! about what this service provider supports.

use scim_protocol::schema::{ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, ResourceKind, USER_SCHEMA};
use scim_protocol::{Schema, enterprise_user_schema, group_schema, schema_json, user_schema};
use serde_json::{Value, json};

use super::list::MAX_COUNT;
use super::resource::Locations;
use crate::json::MAX_PAYLOAD_BYTES;

/// `/ServiceProviderConfig`.
pub fn service_provider_config(locations: &Locations) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://insights.example/docs/scim",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": MAX_PAYLOAD_BYTES },
        "filter": { "supported": true, "maxResults": MAX_COUNT },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": auth_description(),
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": locations.below("/ServiceProviderConfig"),
        },
    })
}

/// One `/ResourceTypes/{name}` document.
pub fn resource_type(kind: ResourceKind, locations: &Locations) -> Value {
    let (name, endpoint, schema, extensions) = match kind {
        ResourceKind::User => (
            "User",
            "/Users",
            USER_SCHEMA,
            vec![json!({"schema": ENTERPRISE_USER_SCHEMA, "required": false})],
        ),
        ResourceKind::Group => ("Group", "/Groups", GROUP_SCHEMA, Vec::new()),
    };
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": format!("{name} resources of this tenant"),
        "schema": schema,
        "schemaExtensions": extensions,
        "meta": { "resourceType": "ResourceType", "location": locations.below(&format!("/ResourceTypes/{name}")) },
    })
}

/// Every resource type.
pub fn resource_types(locations: &Locations) -> Vec<Value> {
    [ResourceKind::User, ResourceKind::Group]
        .into_iter()
        .map(|kind| resource_type(kind, locations))
        .collect()
}

/// The schemas this service provider publishes.
pub fn schemas() -> [&'static Schema; 3] {
    [user_schema(), enterprise_user_schema(), group_schema()]
}

/// One schema document, with its location under this tenant.
pub fn schema_document(schema: &Schema, locations: &Locations) -> Value {
    schema_json(schema, &locations.below(""))
}

/// The bearer scheme's description, with the throttling of failures (SCIM has no field for
/// rate limits, so they are stated here).
fn auth_description() -> String {
    let per_address = crate::auth::FAILED_AUTH_PER_ADDRESS;
    format!(
        "Authentication with the tenant's SCIM token, sent as Authorization: Bearer <token>. \
         Failed authentications are throttled per client address ({} at once, then one every {} s) \
         and per tenant; a throttled request gets 429 with Retry-After. Requests whose database \
         work cannot be done in time get 503 with Retry-After.",
        per_address.burst,
        per_address.refill_every.as_secs().max(1),
    )
}
