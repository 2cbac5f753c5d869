//! `add` and `replace`: merging, multi-valued attributes, value filters, types, mutability.

use serde_json::json;

use super::*;
use crate::schema::ENTERPRISE_USER_SCHEMA;

#[test]
fn pathless_add_merges_attributes() {
    let out = user_patched(json!([{
        "op": "add",
        "value": {
            "title": "Tour Guide",
            "name": {"middleName": "Jane"},
            "emails": [
                {"value": "BJENSEN@example.com", "type": "work", "display": "Work"},
                {"value": "new@example.com", "type": "other"}
            ]
        }
    }]));
    assert_eq!(out["title"], "Tour Guide");
    assert_eq!(
        out["name"],
        json!({"givenName": "Barbara", "familyName": "Jensen", "middleName": "Jane"})
    );
    let emails = out["emails"].as_array().map(Vec::len);
    assert_eq!(emails, Some(3), "the duplicate work email merges: {out:#}");
    assert_eq!(out["emails"][0]["display"], "Work");
    assert_eq!(out["emails"][2]["value"], "new@example.com");
}

#[test]
fn add_with_path_appends_or_sets() {
    let out = user_patched(json!([
        {"op": "add", "path": "emails", "value": [{"value": "x@example.com", "type": "other"}]},
        {"op": "add", "path": "emails", "value": {"value": "y@example.com"}},
        {"op": "add", "path": "nickName", "value": "Babs"},
        {"op": "add", "path": "name.givenName", "value": "Barb"}
    ]));
    assert_eq!(out["emails"].as_array().map(Vec::len), Some(4));
    assert_eq!(out["emails"][3], json!({"value": "y@example.com"}));
    assert_eq!(out["nickName"], "Babs");
    assert_eq!(out["name"]["givenName"], "Barb");
}

#[test]
fn adding_an_existing_value_changes_nothing() {
    let operations = json!([{"op": "add", "path": "emails", "value": [{"value": "babs@jensen.org", "type": "home"}]}]);
    assert_eq!(user_patched(operations), user());
}

#[test]
fn replace_sets_single_values_and_merges_complex_ones() {
    let out = user_patched(json!([
        {"op": "replace", "path": "userName", "value": "babs@example.com"},
        {"op": "replace", "path": "name", "value": {"givenName": "Babs", "middleName": null}},
        {"op": "replace", "value": {"displayName": "Babs Jensen", "Active": false}}
    ]));
    assert_eq!(out["userName"], "babs@example.com");
    assert_eq!(
        out["name"],
        json!({"givenName": "Babs", "familyName": "Jensen"})
    );
    assert_eq!(out["displayName"], "Babs Jensen");
    assert_eq!(out["active"], false);
    assert!(out.get("Active").is_none());
}

#[test]
fn replace_of_a_multi_valued_attribute_replaces_all_values() {
    let out = user_patched(
        json!([{"op": "replace", "path": "emails", "value": [{"value": "only@example.com", "type": "work"}]}]),
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "only@example.com", "type": "work"}])
    );
}

#[test]
fn replace_through_a_value_filter() {
    let out = user_patched(json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "updated@example.com"},
        {"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "h@example.com", "type": "home"}}
    ]));
    assert_eq!(
        out["emails"][0],
        json!({"value": "updated@example.com", "type": "work", "primary": true})
    );
    assert_eq!(
        out["emails"][1],
        json!({"value": "h@example.com", "type": "home"})
    );
}

#[test]
fn replace_through_a_filter_that_matches_nothing_is_no_target() {
    let e = user_err(
        json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}]),
    );
    assert_eq!(e.scim_type(), "noTarget");
    assert_eq!(
        e.to_string(),
        "the filter in \"emails[type eq \"other\"].value\" matched no value of \"emails\""
    );
    let e = user_err(
        json!([{"op": "replace", "path": "phoneNumbers[type eq \"work\"]", "value": {"value": "1"}}]),
    );
    assert_eq!(e.scim_type(), "noTarget");
}

#[test]
fn add_through_a_filter_that_matches_nothing_creates_the_element() {
    let out = user_patched(json!([
        {"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"},
        {"op": "add", "path": "addresses[type eq \"work\"]", "value": {"locality": "Hollywood"}}
    ]));
    assert_eq!(
        out["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
    assert_eq!(
        out["addresses"],
        json!([{"type": "work", "locality": "Hollywood"}])
    );
    let e = user_err(
        json!([{"op": "add", "path": "phoneNumbers[value co \"555\"].type", "value": "work"}]),
    );
    assert_eq!(e.scim_type(), "noTarget");
}

#[test]
fn one_primary_at_a_time() {
    let out = user_patched(
        json!([{"op": "add", "path": "emails", "value": [{"value": "p@example.com", "primary": true}]}]),
    );
    assert_eq!(out["emails"][0]["primary"], false);
    assert_eq!(out["emails"][2]["primary"], true);

    let out = user_patched(
        json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": "True"}]),
    );
    assert_eq!(out["emails"][0]["primary"], false);
    assert_eq!(out["emails"][1]["primary"], true);

    let out = user_patched(json!([{"op": "replace", "path": "emails", "value": [
        {"value": "a@example.com", "primary": true},
        {"value": "b@example.com", "primary": true}
    ]}]));
    assert_eq!(out["emails"][0]["primary"], false);
    assert_eq!(out["emails"][1]["primary"], true);
}

#[test]
fn normalises_keys_of_pathless_values() {
    let out = user_patched(json!([{
        "op": "replace",
        "value": {
            "NAME.GIVENNAME": "Ann",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
            ENTERPRISE_USER_SCHEMA: {"Department": "Tour Operations", "manager": {"Value": "m1"}},
            "EMAILS": [{"VALUE": "ann@example.com", "Type": "work"}]
        }
    }]));
    assert_eq!(out["name"]["givenName"], "Ann");
    assert_eq!(
        out[ENTERPRISE_USER_SCHEMA],
        json!({"employeeNumber": "42", "department": "Tour Operations", "manager": {"value": "m1"}})
    );
    assert_eq!(
        out["emails"],
        json!([{"value": "ann@example.com", "type": "work"}])
    );
    assert_eq!(out["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
}

#[test]
fn keeps_attributes_no_schema_describes() {
    let out = user_patched(json!([{
        "op": "add",
        "value": {
            "costCode": "CC-1",
            "urn:okta:custom:1.0:user:badgeId": "B7",
            "urn:example:ext:2.0:User": {"shoeSize": 43}
        }
    }]));
    assert_eq!(out["costCode"], "CC-1");
    assert_eq!(out["urn:okta:custom:1.0:user"], json!({"badgeId": "B7"}));
    assert_eq!(out["urn:example:ext:2.0:User"], json!({"shoeSize": 43}));
    let out = patched(
        ResourceKind::User,
        out,
        json!([{"op": "replace", "path": "urn:okta:custom:1.0:user:badgeId", "value": "B8"}]),
    );
    assert_eq!(out["urn:okta:custom:1.0:user"], json!({"badgeId": "B8"}));
    let out = patched(
        ResourceKind::User,
        out,
        json!([{"op": "add", "path": "urn:example:ext:2.0:User:shoeSize", "value": 44}]),
    );
    assert_eq!(out["urn:example:ext:2.0:User"], json!({"shoeSize": 44}));
    let mut schemas = out["schemas"].as_array().cloned().unwrap_or_default();
    schemas.sort_by_key(ToString::to_string);
    assert_eq!(
        schemas,
        [
            json!("urn:example:ext:2.0:User"),
            json!(USER_SCHEMA),
            json!("urn:okta:custom:1.0:user")
        ]
    );
}

#[test]
fn an_explicit_path_to_an_unknown_attribute_is_invalid_path() {
    let cases = [
        (
            "nope",
            "invalid path \"nope\": a User has no attribute \"nope\"",
        ),
        (
            "name.nope",
            "invalid path \"name.nope\": \"name\" has no sub-attribute \"nope\"",
        ),
        (
            "emails[type eq \"work\"].nope",
            "invalid path \"emails[type eq \"work\"].nope\": \"emails\" has no sub-attribute \"nope\"",
        ),
        (
            "userName[value eq \"x\"]",
            "invalid path \"userName[value eq \"x\"]\": \"userName\" is single-valued, so it cannot take a value filter",
        ),
        (
            "urn:ietf:params:scim:schemas:core:2.0:Group:displayName",
            "invalid path \"urn:ietf:params:scim:schemas:core:2.0:Group:displayName\": schema \"urn:ietf:params:scim:schemas:core:2.0:Group\" does not apply to a User",
        ),
    ];
    for (path, message) in cases {
        let e = user_err(json!([{"op": "replace", "path": path, "value": "x"}]));
        assert_eq!(e.scim_type(), "invalidPath", "{path}");
        assert_eq!(e.to_string(), message);
    }
}

#[test]
fn checks_values_against_the_schema() {
    let cases = [
        (
            json!({"active": "maybe"}),
            "invalid value for \"active\": expected a boolean (true or false), got \"maybe\"",
        ),
        (
            json!({"userName": 5}),
            "invalid value for \"userName\": expected a string, got 5",
        ),
        (
            json!({"name": "Ann"}),
            "invalid value for \"name\": expected a JSON object, got \"Ann\"",
        ),
        (
            json!({"emails": [{"value": "a@b.c", "primary": "yes"}]}),
            "invalid value for \"emails.primary\": expected a boolean (true or false), got \"yes\"",
        ),
        (
            json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter": ["a"]}),
            "invalid value for \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter\": expected a string, got [\"a\"]",
        ),
    ];
    for (value, message) in cases {
        let e = user_err(json!([{"op": "replace", "value": value}]));
        assert_eq!(e.scim_type(), "invalidValue");
        assert_eq!(e.to_string(), message);
    }
    let out = user_patched(json!([{"op": "replace", "path": "active", "value": "FALSE"}]));
    assert_eq!(out["active"], false);
}

#[test]
fn read_only_attributes_cannot_be_written() {
    let cases = [
        (
            json!({"op": "replace", "path": "id", "value": "other"}),
            "\"id\" cannot be modified: it is readOnly",
        ),
        (
            json!({"op": "replace", "value": {"id": "other", "title": "x"}}),
            "\"id\" cannot be modified: it is readOnly",
        ),
        (
            json!({"op": "replace", "value": {"meta": {"created": "2020-01-01T00:00:00Z"}}}),
            "\"meta\" cannot be modified: it is readOnly",
        ),
        (
            json!({"op": "add", "path": "meta.lastModified", "value": "2020-01-01T00:00:00Z"}),
            "\"meta.lastModified\" cannot be modified: it is readOnly",
        ),
        (
            json!({"op": "add", "path": "groups", "value": [{"value": "g1"}]}),
            "\"groups\" cannot be modified: it is readOnly",
        ),
        (
            json!({"op": "replace", "path": "schemas", "value": [USER_SCHEMA]}),
            "\"schemas\" cannot be modified: it is maintained by the server",
        ),
        (
            json!({"op": "add", "value": {"schemas": ["urn:example:other"]}}),
            "\"schemas\" cannot be modified: it is maintained by the server",
        ),
        (
            json!({"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName", "value": "Boss"}),
            "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName\" cannot be modified: it is readOnly",
        ),
    ];
    for (op, message) in cases {
        let e = user_err(json!([op]));
        assert_eq!(e.scim_type(), "mutability");
        assert_eq!(e.to_string(), message);
    }
    // Repeating the current id (Okta does) or the current schemas changes nothing.
    let out = user_patched(
        json!([{"op": "replace", "value": {"id": USER_ID, "schemas": [USER_SCHEMA], "title": "x"}}]),
    );
    assert_eq!(out["title"], "x");
    assert_eq!(out["id"], USER_ID);
}

#[test]
fn required_attributes_cannot_be_cleared() {
    let e = user_err(json!([{"op": "replace", "path": "userName", "value": null}]));
    assert_eq!(e.scim_type(), "invalidValue");
    assert_eq!(
        e.to_string(),
        "invalid value for \"userName\": it is required, so it cannot be cleared"
    );
    let out = user_patched(
        json!([{"op": "replace", "path": "title", "value": null}, {"op": "add", "path": "nickName", "value": null}]),
    );
    assert_eq!(out, user());
}

#[test]
fn operations_apply_in_order_and_all_or_nothing() {
    let out = user_patched(json!([
        {"op": "add", "path": "title", "value": "a"},
        {"op": "replace", "path": "title", "value": "b"},
        {"op": "remove", "path": "nickName"}
    ]));
    assert_eq!(out["title"], "b");
    // The first operation would succeed on its own, but the second fails: nothing changes.
    let e = user_err(json!([
        {"op": "replace", "path": "title", "value": "changed"},
        {"op": "replace", "path": "active", "value": "maybe"}
    ]));
    assert_eq!(e.scim_type(), "invalidValue");
}

#[test]
fn the_core_schema_urn_as_a_path_is_the_resource() {
    let out =
        user_patched(json!([{"op": "replace", "path": USER_SCHEMA, "value": {"title": "x"}}]));
    assert_eq!(out["title"], "x");
}
