//! Unit tests for PATCH parsing, application and group membership splitting, with request
//! shapes taken from RFC 7644 and from what Okta and Microsoft Entra ID send.

mod entra_okta;
mod group;
mod parse;
mod props;
mod remove;
mod write;

use serde_json::{Value, json};

use super::*;
use crate::schema::{ResourceKind, USER_SCHEMA};

pub(super) const USER_ID: &str = "2819c223-7f76-453a-919d-413861904646";
pub(super) const GROUP_ID: &str = "abf4dd94-a4c0-4f67-89c9-76b03340cb9b";

/// A PatchOp message around `operations`.
pub(super) fn body(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP_SCHEMA], "Operations": operations})
}

pub(super) fn ops(operations: Value) -> Vec<PatchOp> {
    match parse_patch(&body(operations)) {
        Ok(ops) => ops,
        Err(e) => panic!("should parse: {e}"),
    }
}

/// Applies `operations` to `resource` and returns the result.
pub(super) fn patched(kind: ResourceKind, resource: Value, operations: Value) -> Value {
    let mut resource = resource;
    if let Err(e) = apply(&mut resource, kind, &ops(operations)) {
        panic!("should apply: {e}");
    }
    resource
}

/// Applies `operations`, expecting an error, and checks the resource was left untouched.
pub(super) fn patch_err(kind: ResourceKind, resource: Value, operations: Value) -> PatchError {
    let mut copy = resource.clone();
    match apply(&mut copy, kind, &ops(operations)) {
        Ok(()) => panic!("should fail, got {copy:#}"),
        Err(e) => {
            assert_eq!(
                copy, resource,
                "a failed PATCH must not change the resource"
            );
            e
        }
    }
}

pub(super) fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA],
        "id": USER_ID,
        "externalId": "00u1abcd",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {
            "resourceType": "User",
            "created": "2024-01-01T00:00:00Z",
            "lastModified": "2024-01-01T00:00:00Z"
        }
    })
}

pub(super) fn group() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": GROUP_ID,
        "displayName": "Sales",
        "members": [{"value": "u1", "display": "Ann"}],
        "meta": {"resourceType": "Group"}
    })
}

pub(super) fn user_patched(operations: Value) -> Value {
    patched(ResourceKind::User, user(), operations)
}

pub(super) fn user_err(operations: Value) -> PatchError {
    patch_err(ResourceKind::User, user(), operations)
}
