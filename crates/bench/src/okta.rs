//! Okta's request shapes (the "SCIM 2.0 Test App" with its default mappings) and the checks
//! that a response is the one Okta expects.

use serde_json::{Value, json};

use crate::http::Response;

/// The core User schema.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The PatchOp message schema.
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The ListResponse message schema.
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// The ServiceProviderConfig schema.
pub const SPC_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";

/// The userName of the `i`th user a level creates.
pub fn user_name(prefix: &str, i: usize) -> String {
    format!("{prefix}-{i:06}@example.com")
}

/// Okta's create-user body (POST /Users).
pub fn create_user_body(user_name: &str, i: usize) -> String {
    json!({
        "schemas": [USER_SCHEMA],
        "userName": user_name,
        "name": { "givenName": "Bench", "familyName": format!("User{i}") },
        "emails": [{ "primary": true, "value": user_name, "type": "work" }],
        "displayName": format!("Bench User{i}"),
        "locale": "en-US",
        "externalId": format!("00u{i:017}"),
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
    .to_string()
}

/// Okta's lookup before a create: `filter=userName eq "..."&startIndex=1&count=100`.
pub fn lookup_path(user_name: &str) -> String {
    format!(
        "/Users?filter={}&startIndex=1&count=100",
        percent_encode(&format!("userName eq \"{user_name}\""))
    )
}

/// Okta's deactivation: a path-less replace of `active`.
pub fn deactivate_body() -> String {
    json!({
        "schemas": [PATCH_SCHEMA],
        "Operations": [{ "op": "replace", "value": { "active": false } }]
    })
    .to_string()
}

/// Okta's group push: the group without members.
pub fn create_group_body(name: &str) -> String {
    json!({ "schemas": [GROUP_SCHEMA], "displayName": name, "members": [] }).to_string()
}

/// Okta's membership push: `add` on `members` with `value` and `display`.
pub fn add_members_body(members: &[(String, String)]) -> String {
    let value: Vec<Value> = members
        .iter()
        .map(|(id, display)| json!({ "value": id, "display": display }))
        .collect();
    json!({
        "schemas": [PATCH_SCHEMA],
        "Operations": [{ "op": "add", "path": "members", "value": value }]
    })
    .to_string()
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The JSON body of a response with the expected status and a SCIM content type.
pub fn json_body(response: &Response, status: u16) -> Result<Value, String> {
    if response.status != status {
        return Err(format!(
            "status {} (expected {status}): {}",
            response.status,
            String::from_utf8_lossy(&response.body[..response.body.len().min(300)])
        ));
    }
    serde_json::from_slice(&response.body).map_err(|e| format!("body is not JSON: {e}"))
}

/// A string member of a JSON object.
pub fn text<'a>(value: &'a Value, pointer: &str) -> Result<&'a str, String> {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("no string at {pointer}"))
}

/// An integer member of a JSON object.
pub fn integer(value: &Value, pointer: &str) -> Result<i64, String> {
    value
        .pointer(pointer)
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("no integer at {pointer}"))
}

/// Whether `schemas` contains `schema`.
pub fn has_schema(value: &Value, schema: &str) -> bool {
    value
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|v| v.as_str() == Some(schema)))
}

/// Checks a returned user: schema, id, userName, active, meta, no password.
pub fn check_user(user: &Value, user_name: &str, active: bool) -> Result<String, String> {
    if !has_schema(user, USER_SCHEMA) {
        return Err("user without the core User schema".into());
    }
    let id = text(user, "/id")?.to_owned();
    if !text(user, "/userName")?.eq_ignore_ascii_case(user_name) {
        return Err(format!("userName is not {user_name}"));
    }
    if user.get("active").and_then(Value::as_bool) != Some(active) {
        return Err(format!("active is not {active}"));
    }
    if user.get("password").is_some() {
        return Err("the password was returned".into());
    }
    if text(user, "/meta/resourceType")? != "User" {
        return Err("meta.resourceType is not User".into());
    }
    text(user, "/meta/location")?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_is_encoded_like_okta() {
        assert_eq!(
            lookup_path("a.b@example.com"),
            "/Users?filter=userName%20eq%20%22a.b%40example.com%22&startIndex=1&count=100"
        );
    }
}
