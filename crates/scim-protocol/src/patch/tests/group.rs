//! Splitting membership changes out of Group PATCH requests.

use serde_json::json;

use super::*;
use GroupMemberChange::{Add, Remove, Replace};

fn split(operations: serde_json::Value) -> (Vec<GroupMemberChange>, Vec<PatchOp>) {
    match split_group_ops(ops(operations)) {
        Ok(parts) => parts,
        Err(e) => panic!("should split: {e}"),
    }
}

fn split_err(operations: serde_json::Value) -> PatchError {
    match split_group_ops(ops(operations)) {
        Ok(parts) => panic!("should fail: {parts:?}"),
        Err(e) => e,
    }
}

fn ids(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn okta_member_add_and_remove() {
    let (changes, rest) = split(json!([
        {"op": "add", "path": "members", "value": [
            {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}
        ]},
        {"op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"}
    ]));
    assert_eq!(
        changes,
        [
            Add(ids(&["23a35c27-23d3-4c03-b4c5-6443c09e7173"])),
            Remove(ids(&["89bb1940-b905-4575-9e7f-6f887cfb368e"]))
        ]
    );
    assert!(rest.is_empty());
}

#[test]
fn okta_push_replaces_members_and_renames() {
    let (changes, rest) = split(json!([
        {"op": "replace", "value": {"id": GROUP_ID, "displayName": "Sales"}},
        {"op": "replace", "path": "members", "value": [{"value": "a"}, {"value": "b"}, {"value": "a"}]}
    ]));
    assert_eq!(changes, [Replace(ids(&["a", "b"]))]);
    assert_eq!(rest.len(), 1);
    let out = patched_with(rest);
    assert_eq!(out["displayName"], "Sales");
}

fn patched_with(rest: Vec<PatchOp>) -> serde_json::Value {
    let mut doc = group();
    if let Err(e) = apply(&mut doc, ResourceKind::Group, &rest) {
        panic!("should apply: {e}");
    }
    doc
}

#[test]
fn entra_member_add_and_remove_by_value_list() {
    let (changes, rest) = split(json!([
        {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]},
        {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]},
        {"op": "Replace", "path": "displayName", "value": "New name"}
    ]));
    assert_eq!(
        changes,
        [
            Add(ids(&["f648f8d5ea4e4cd38e9c"])),
            Remove(ids(&["f648f8d5ea4e4cd38e9c"]))
        ]
    );
    assert_eq!(rest.len(), 1);
    assert_eq!(patched_with(rest)["displayName"], "New name");
}

#[test]
fn recognises_other_spellings() {
    let (changes, rest) = split(json!([
        {"op": "remove", "path": "Members[Value EQ \"a\" or value eq \"b\"]"},
        {"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members", "value": ["c", {"VALUE": "d"}]},
        {"op": "remove", "path": "members"},
        {"op": "add", "value": {"displayName": "X", "members": [{"value": "e"}]}},
        {"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:Group:members": []}}
    ]));
    assert_eq!(
        changes,
        [
            Remove(ids(&["a", "b"])),
            Add(ids(&["c", "d"])),
            Replace(vec![]),
            Add(ids(&["e"])),
            Replace(vec![])
        ]
    );
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0].value, Some(json!({"displayName": "X"})));
}

#[test]
fn rejects_member_shapes_sql_cannot_run() {
    let e = split_err(json!([{"op": "remove", "path": "members[type eq \"User\"]"}]));
    assert_eq!(e.scim_type(), "invalidPath");
    assert_eq!(
        e.to_string(),
        "invalid path \"members[type eq \"User\"]\": members can only be selected with value eq \"…\", optionally joined by or"
    );
    let e = split_err(
        json!([{"op": "replace", "path": "members[value eq \"a\"].display", "value": "x"}]),
    );
    assert_eq!(e.scim_type(), "invalidPath");
    let e = split_err(json!([{"op": "remove", "path": "members.value"}]));
    assert_eq!(e.scim_type(), "invalidPath");
    let e = split_err(json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}]));
    assert_eq!(e.scim_type(), "invalidValue");
    assert_eq!(
        e.to_string(),
        "invalid value for \"members\": each member needs a non-empty string \"value\", got {\"display\":\"no id\"}"
    );
}

#[test]
fn leaves_other_operations_alone() {
    let (changes, rest) = split(json!([
        {"op": "replace", "path": "displayName", "value": "A"},
        {"op": "add", "path": "externalId", "value": "ext"}
    ]));
    assert!(changes.is_empty());
    assert_eq!(rest.len(), 2);
}
