//! `remove`: attributes, sub-attributes, value filters, extensions and required attributes.

use serde_json::json;

use super::*;
use crate::schema::ENTERPRISE_USER_SCHEMA;

#[test]
fn removes_attributes_and_sub_attributes() {
    let out = user_patched(json!([
        {"op": "remove", "path": "name.givenName"},
        {"op": "remove", "path": "ACTIVE"},
        {"op": "remove", "path": "emails.primary"},
        {"op": "remove", "path": "nickName"}
    ]));
    assert_eq!(out["name"], json!({"familyName": "Jensen"}));
    assert!(out.get("active").is_none());
    assert_eq!(
        out["emails"][0],
        json!({"value": "bjensen@example.com", "type": "work"})
    );

    let out = user_patched(
        json!([{"op": "remove", "path": "name.givenName"}, {"op": "remove", "path": "name.familyName"}]),
    );
    assert!(
        out.get("name").is_none(),
        "an emptied complex attribute is unassigned"
    );
    let out = user_patched(json!([{"op": "remove", "path": "emails"}]));
    assert!(out.get("emails").is_none());
}

#[test]
fn removes_elements_matching_a_filter() {
    let out = user_patched(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]));
    assert_eq!(
        out["emails"],
        json!([{"value": "bjensen@example.com", "type": "work", "primary": true}])
    );
    let out = user_patched(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}]));
    assert_eq!(
        out["emails"][0],
        json!({"value": "bjensen@example.com", "type": "work"})
    );
    let out = user_patched(
        json!([{"op": "remove", "path": "emails[value ew \"example.com\" or type eq \"home\"]"}]),
    );
    assert!(
        out.get("emails").is_none(),
        "no values left means unassigned"
    );
}

#[test]
fn remove_through_a_filter_that_matches_nothing_is_no_target() {
    let e = user_err(json!([{"op": "remove", "path": "emails[type eq \"other\"]"}]));
    assert_eq!(e.scim_type(), "noTarget");
    let e = user_err(json!([{"op": "remove", "path": "phoneNumbers[type eq \"work\"]"}]));
    assert_eq!(e.scim_type(), "noTarget");
}

#[test]
fn remove_without_a_path_is_no_target() {
    let e = user_err(json!([{"op": "remove", "value": {"title": "x"}}]));
    assert_eq!(e.scim_type(), "noTarget");
    assert_eq!(
        e.to_string(),
        "a \"remove\" operation needs a \"path\" naming what to remove"
    );
}

#[test]
fn remove_with_a_value_removes_the_listed_elements() {
    let out = user_patched(
        json!([{"op": "remove", "path": "emails", "value": [{"value": "BABS@jensen.org"}]}]),
    );
    assert_eq!(out["emails"].as_array().map(Vec::len), Some(1));
    assert_eq!(out["emails"][0]["type"], "work");
}

#[test]
fn required_and_read_only_attributes_stay() {
    let e = user_err(json!([{"op": "remove", "path": "userName"}]));
    assert_eq!(e.scim_type(), "invalidValue");
    assert_eq!(
        e.to_string(),
        "invalid value for \"userName\": it is required, so it cannot be removed"
    );
    let e = patch_err(
        ResourceKind::Group,
        group(),
        json!([{"op": "remove", "path": "displayName"}]),
    );
    assert_eq!(e.scim_type(), "invalidValue");
    for path in ["id", "meta", "meta.created", "groups", "schemas"] {
        let e = user_err(json!([{"op": "remove", "path": path}]));
        assert_eq!(e.scim_type(), "mutability", "{path}");
    }
    let e = patch_err(
        ResourceKind::Group,
        group(),
        json!([{"op": "remove", "path": "members.value"}]),
    );
    assert_eq!(e.scim_type(), "mutability");
    assert_eq!(
        e.to_string(),
        "\"members.value\" cannot be modified: it is immutable"
    );
}

#[test]
fn removes_extension_attributes_and_the_extension_itself() {
    let with_extension = user_patched(
        json!([{"op": "add", "path": ENTERPRISE_USER_SCHEMA, "value": {"employeeNumber": "42", "department": "Ops"}}]),
    );
    assert_eq!(
        with_extension["schemas"],
        json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA])
    );

    let out = patched(
        ResourceKind::User,
        with_extension.clone(),
        json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"}]),
    );
    assert_eq!(out[ENTERPRISE_USER_SCHEMA], json!({"department": "Ops"}));

    let out = patched(
        ResourceKind::User,
        out,
        json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]),
    );
    assert!(out.get(ENTERPRISE_USER_SCHEMA).is_none());
    assert_eq!(out["schemas"], json!([USER_SCHEMA]));

    let out = patched(
        ResourceKind::User,
        with_extension,
        json!([{"op": "remove", "path": ENTERPRISE_USER_SCHEMA}]),
    );
    assert_eq!(out, user());
}

#[test]
fn removing_what_is_not_there_succeeds() {
    assert_eq!(
        user_patched(json!([{"op": "remove", "path": "title"}])),
        user()
    );
    assert_eq!(
        user_patched(
            json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}])
        ),
        user()
    );
    assert_eq!(
        user_patched(json!([{"op": "remove", "path": "urn:example:ext:1.0:User:thing"}])),
        user()
    );
}

#[test]
fn custom_attributes_are_addressable_once_stored() {
    let stored =
        user_patched(json!([{"op": "add", "value": {"costCode": "CC-1", "badge": {"id": "B7"}}}]));
    let out = patched(
        ResourceKind::User,
        stored.clone(),
        json!([
            {"op": "replace", "path": "COSTCODE", "value": "CC-2"},
            {"op": "remove", "path": "badge.id"}
        ]),
    );
    assert_eq!(out["costCode"], "CC-2");
    assert!(
        out.get("badge").is_none(),
        "an emptied object is unassigned"
    );
    let out = patched(
        ResourceKind::User,
        stored,
        json!([{"op": "remove", "path": "costCode"}, {"op": "remove", "path": "badge"}]),
    );
    assert_eq!(out, user());
    // Never stored: an explicit path to it is still invalid.
    let e = user_err(json!([{"op": "remove", "path": "costCode"}]));
    assert_eq!(e.scim_type(), "invalidPath");
}

#[test]
fn pathless_keys_with_unknown_sub_attributes() {
    let out = user_patched(
        json!([{"op": "add", "value": {"name.nickname": "Babs", "addresses.zone": "x"}}]),
    );
    assert_eq!(
        out["name"]["nickname"], "Babs",
        "kept inside the complex attribute"
    );
    assert_eq!(out["addresses.zone"], "x", "kept as sent");
    let e = user_err(json!([{"op": "add", "value": {"emails[type eq \"work\"].nope": "x"}}]));
    assert_eq!(e.scim_type(), "invalidPath");
    let e = user_err(json!([{"op": "add", "value": {"meta.foo": "x"}}]));
    assert_eq!(e.scim_type(), "mutability");
    assert_eq!(
        user_patched(json!([{"op": "add", "value": {ENTERPRISE_USER_SCHEMA: null}}])),
        user()
    );
}
