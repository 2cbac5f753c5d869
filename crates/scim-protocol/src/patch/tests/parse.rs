//! Parsing PatchOp messages and paths.

use serde_json::json;

use super::*;
use crate::attr_path::AttrPath;
use crate::filter::parse_filter;

#[test]
fn accepts_any_case_of_op_and_operations() {
    let body = json!({
        "schemas": [PATCH_OP_SCHEMA],
        "operations": [
            {"op": "Add", "path": "title", "value": "x"},
            {"OP": "REPLACE", "Path": "title", "Value": "y"},
            {"op": "remove", "path": "title"}
        ]
    });
    let Ok(parsed) = parse_patch(&body) else {
        panic!("should parse")
    };
    let kinds: Vec<_> = parsed.iter().map(|op| op.op).collect();
    assert_eq!(
        kinds,
        [PatchOpKind::Add, PatchOpKind::Replace, PatchOpKind::Remove]
    );
    assert_eq!(parsed[1].value, Some(json!("y")));
    assert_eq!(parsed[2].value, None);
}

#[test]
fn rejects_malformed_messages() {
    let cases = [
        (
            json!([]),
            "invalid PATCH request: the body must be a JSON object",
        ),
        (
            json!({"Operations": [{"op": "remove", "path": "title"}]}),
            "invalid PATCH request: \"schemas\" must contain \"urn:ietf:params:scim:api:messages:2.0:PatchOp\"",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "Operations": []}),
            "invalid PATCH request: \"schemas\" must contain \"urn:ietf:params:scim:api:messages:2.0:PatchOp\"",
        ),
        (
            json!({"schemas": [PATCH_OP_SCHEMA]}),
            "invalid PATCH request: \"Operations\" must be an array of operations",
        ),
        (
            body(json!([])),
            "invalid PATCH request: \"Operations\" must not be empty",
        ),
        (
            body(json!(["add"])),
            "invalid PATCH request: operation 1: must be a JSON object",
        ),
        (
            body(json!([{"path": "title"}])),
            "invalid PATCH request: operation 1: \"op\" is missing",
        ),
        (
            body(json!([{"op": "remove", "path": "title"}, {"op": "move", "path": "title"}])),
            "invalid PATCH request: operation 2: \"op\" must be \"add\", \"replace\" or \"remove\", not \"move\"",
        ),
        (
            body(json!([{"op": "add", "path": "title"}])),
            "invalid PATCH request: operation 1: \"add\" needs a \"value\"",
        ),
        (
            body(json!([{"op": "replace", "value": false}])),
            "invalid PATCH request: operation 1: without a \"path\", the \"value\" of \"replace\" must be an object of attributes",
        ),
        (
            body(json!([{"op": "remove", "path": 5}])),
            "invalid PATCH request: operation 1: \"path\" must be a string",
        ),
    ];
    for (body, message) in cases {
        match parse_patch(&body) {
            Ok(ops) => panic!("{body} should not parse: {ops:?}"),
            Err(e) => {
                assert_eq!(e.scim_type(), "invalidSyntax");
                assert_eq!(e.to_string(), message);
            }
        }
    }
}

#[test]
fn an_empty_path_means_no_path() {
    let parsed = ops(json!([{"op": "replace", "path": "", "value": {"active": false}}]));
    assert_eq!(parsed[0].path, None);
}

#[test]
fn parses_paths() {
    let path = |text: &str| match PatchPath::parse(text) {
        Ok(path) => path,
        Err(e) => panic!("{text:?}: {e}"),
    };
    let p = path("name.familyName");
    assert_eq!(p.attr, AttrPath::with_sub("name", "familyName"));
    assert_eq!((p.filter, p.sub_attr), (None, None));

    let p = path(r#"emails[type eq "work"].value"#);
    assert_eq!(p.attr, AttrPath::new("emails"));
    assert_eq!(p.filter, parse_filter(r#"type eq "work""#).ok());
    assert_eq!(p.sub_attr.as_deref(), Some("value"));
    assert_eq!(p.to_string(), r#"emails[type eq "work"].value"#);

    let p = path(r#"members[value eq "2819c223"]"#);
    assert_eq!(p.attr, AttrPath::new("members"));
    assert_eq!(p.sub_attr, None);

    let p = path("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value");
    assert_eq!(
        p.attr.uri.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(p.attr.attr, "manager");
    assert_eq!(
        p.raw,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
    );
}

#[test]
fn rejects_malformed_paths_as_invalid_path() {
    let cases = [
        (
            "emails[type eq",
            "invalid path \"emails[type eq\": unexpected end of input at position 14: expected a value (a quoted string, a number, true, false or null)",
        ),
        (
            "emails]",
            "invalid path \"emails]\": unexpected token \"]\" at position 6: expected \"[\" or the end of the path",
        ),
        (
            "name.givenName[type eq \"x\"]",
            "invalid path \"name.givenName[type eq \"x\"]\": a value filter must follow a multi-valued attribute, not a sub-attribute",
        ),
        (
            "emails[type eq \"work\"].",
            "invalid path \"emails[type eq \"work\"].\": unexpected end of input at position 23: expected an attribute name",
        ),
        (
            "a b",
            "invalid path \"a b\": unexpected token \"b\" at position 2: expected \"[\" or the end of the path",
        ),
    ];
    for (text, message) in cases {
        match PatchPath::parse(text) {
            Ok(path) => panic!("{text:?} should not parse: {path:?}"),
            Err(e) => {
                assert_eq!(e.scim_type(), "invalidPath");
                assert_eq!(e.to_string(), message);
            }
        }
    }
    let e = match parse_patch(&body(
        json!([{"op": "remove", "path": "emails[type eq \"work\""}]),
    )) {
        Ok(_) => panic!("should not parse"),
        Err(e) => e,
    };
    assert_eq!(e.scim_type(), "invalidPath");
}
