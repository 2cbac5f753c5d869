//! PATCH documents for users and the group, well-formed changes and arbitrary ones.

use super::*;

/// PATCH paths no grammar makes.
#[rustfmt::skip]
pub(crate) const ODD_PATCH_PATHS: &[&str] = &[
    "", " ", "[", "]", "emails[", "emails]", "emails[]", "emails[type]", "name..givenName", ".",
    "urn:", "urn:ietf:params:scim:schemas:core:2.0:User:", "members[value eq]",
    "members[value eq \"x\"", "emails[type eq \"work\"].value.extra", "a.b.c.d", "meta", "id",
    "schemas", "$ref", "userName[", "emails[value co \"@\"][type eq \"x\"]",
    "members[value eq \"a\"].display", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
];

/// `op`: the three operations in any case, other words, other types, or none.
pub(crate) fn op_name() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        10 => one_of(&["add", "replace", "remove"]).prop_map(|s| Some(Value::String(s))),
        2 => one_of(&["Add", "REPLACE", "Remove", "ADD", "delete", "move", "copy", "test", "",
                      " add"])
            .prop_map(|s| Some(Value::String(s))),
        1 => json_value().prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

/// One PatchOp operation with `path` and `value` drawn from these, either missing now and
/// then, and extra fields.
pub(crate) fn patch_op(
    path: BoxedStrategy<String>,
    value: BoxedStrategy<Value>,
) -> BoxedStrategy<Value> {
    (
        op_name(),
        weighted(
            0.75,
            prop_oneof![8 => path.prop_map(Value::String), 1 => json_value()],
        ),
        weighted(0.85, value),
        vec((key(), json_value()), 0..2),
    )
        .prop_map(|(op, path, value, extra)| {
            let mut map = Map::new();
            if let Some(op) = op {
                map.insert("op".into(), op);
            }
            if let Some(path) = path {
                map.insert("path".into(), path);
            }
            if let Some(value) = value {
                map.insert("value".into(), value);
            }
            map.extend(extra);
            Value::Object(map)
        })
        .boxed()
}

/// A PatchOp document (right, with wrong or missing schemas, odd `Operations`) as a body.
pub(crate) fn patch_body(op: BoxedStrategy<Value>) -> BoxedStrategy<Vec<u8>> {
    let ops = vec(op, 0..4);
    let document = prop_oneof![
        10 => ops.clone().prop_map(|ops| json!({"schemas": [PATCH_OP], "Operations": ops})),
        1 => (schemas_value(&[PATCH_OP]), ops.clone())
            .prop_map(|(schemas, ops)| json!({"schemas": schemas, "Operations": ops})),
        1 => ops.clone().prop_map(|ops| json!({"Operations": ops})),
        1 => ops.clone().prop_map(|ops| json!({"schemas": [PATCH_OP], "operations": ops})),
        1 => (ops, key(), json_value()).prop_map(|(ops, key, extra)| {
            let mut doc = json!({"schemas": [PATCH_OP], "Operations": ops});
            doc[key] = extra;
            doc
        }),
        1 => json_value().prop_map(|v| json!({"schemas": [PATCH_OP], "Operations": v})),
        1 => json_value(),
    ];
    body_of(document.boxed())
}

/// A PATCH path on a user: attribute and value paths, odd paths, text, mutated.
pub(crate) fn user_patch_path() -> BoxedStrategy<String> {
    let path = prop_oneof![
        4 => attr_path(),
        2 => value_path(),
        1 => one_of(ODD_PATCH_PATHS),
        1 => text(),
    ];
    mutated_text(path.boxed())
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
        .boxed()
}

/// A PATCH value for a user: anything, or shapes of user attributes.
pub(crate) fn user_patch_value(targets: &Targets) -> BoxedStrategy<Value> {
    let member = targets.member.clone();
    prop_oneof![
        4 => json_value(),
        2 => user_document(targets),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => one_of(&["True", "False", "true"]).prop_map(Value::String),
        1 => emails_value(),
        1 => enterprise_value(member.clone()),
        1 => enterprise_value(member).prop_map(|ext| json!({ ENTERPRISE: ext })),
        1 => name_value(),
        1 => active_value().prop_map(|active| json!({"active": active})),
    ]
    .boxed()
}

/// A PATCH path on a group: members (by value filter too), other attributes, junk.
pub(crate) fn group_patch_path(targets: &Targets) -> BoxedStrategy<String> {
    let ids = prop_oneof![
        2 => Just(targets.user.clone()),
        2 => Just(targets.member.clone()),
        1 => uuid(),
        1 => text(),
    ];
    let path = prop_oneof![
        3 => one_of(&["members", "displayName", "externalId", "members.value",
                      "members.display", "Members", "MEMBERS.value"]),
        2 => (ids, weighted(0.3, one_of(SUB_ATTRS))).prop_map(|(id, sub)| {
            let sub = sub.map(|s| format!(".{s}")).unwrap_or_default();
            format!("members[value eq {}]{sub}", Value::String(id))
        }),
        1 => attr_path(),
        1 => value_path(),
        1 => one_of(ODD_PATCH_PATHS),
        1 => text(),
    ];
    mutated_text(path.boxed())
        .prop_map(|b| String::from_utf8_lossy(&b).into_owned())
        .boxed()
}

/// A PATCH value for a group: member lists, documents, anything.
pub(crate) fn group_patch_value(targets: &Targets) -> BoxedStrategy<Value> {
    prop_oneof![
        3 => vec(member_ref(targets), 0..4).prop_map(Value::Array),
        2 => json_value(),
        1 => group_document(targets),
        1 => member_ref(targets),
        1 => text().prop_map(Value::String),
        1 => vec(member_ref(targets), 0..3).prop_map(|m| json!({"members": m})),
    ]
    .boxed()
}

/// Text an identity provider would send for a name or title (now and then anything).
pub(crate) fn plain_text() -> BoxedStrategy<String> {
    prop_oneof![4 => re("[A-Za-z][A-Za-z0-9 .'@-]{0,20}"), 1 => text()].boxed()
}

/// One operation as an identity provider sends it: a path (or none) and a value of its type.
pub(crate) fn typed_op(change: BoxedStrategy<(Option<String>, Value)>) -> BoxedStrategy<Value> {
    let op = prop_oneof![4 => Just("replace"), 3 => Just("add"), 1 => Just("Replace"), 1 => Just("remove")];
    (change, op)
        .prop_map(|((path, value), op)| {
            let mut operation = json!({"op": op});
            if let Some(path) = path {
                operation["path"] = Value::String(path);
            }
            if op != "remove" {
                operation["value"] = value;
            }
            operation
        })
        .boxed()
}

/// A user attribute and a value of its type, or a path-less object of them.
pub(crate) fn typed_user_change(targets: &Targets) -> BoxedStrategy<(Option<String>, Value)> {
    let strings: Vec<String> = [
        "displayName",
        "title",
        "nickName",
        "name.givenName",
        "name.familyName",
        "name.formatted",
        "externalId",
        "userType",
        "locale",
        "timezone",
        "emails[type eq \"work\"].value",
        "phoneNumbers[type eq \"mobile\"].value",
    ]
    .into_iter()
    .map(str::to_owned)
    .chain(["department", "employeeNumber", "costCenter"].map(|a| format!("{ENTERPRISE}:{a}")))
    .chain([format!("{USER_SCHEMA}:displayName")])
    .collect();
    let manager = json!({"value": targets.member});
    let fragment = (
        weighted(0.5, any::<bool>()),
        weighted(0.5, plain_text()),
        weighted(0.3, plain_text()),
    )
        .prop_map(|(active, display, department)| {
            let mut doc = object(vec![
                ("active", active.map(Value::Bool)),
                ("displayName", display.map(Value::String)),
            ]);
            if let Some(department) = department {
                doc[ENTERPRISE] = json!({"department": department});
            }
            (None, doc)
        });
    prop_oneof![
        5 => (select(strings), plain_text()).prop_map(|(p, v)| (Some(p), Value::String(v))),
        2 => any::<bool>().prop_map(|b| (Some("active".to_owned()), Value::Bool(b))),
        1 => emails_value().prop_map(|v| (Some("emails".to_owned()), v)),
        1 => name_value().prop_map(|v| (Some("name".to_owned()), v)),
        1 => Just((Some(format!("{ENTERPRISE}:manager")), manager)),
        2 => fragment,
    ]
    .boxed()
}

/// A group change as an identity provider sends it: members added, removed or replaced, the
/// name changed.
pub(crate) fn typed_group_change(targets: &Targets) -> BoxedStrategy<(Option<String>, Value)> {
    let users = vec![targets.user.clone(), targets.member.clone()];
    prop_oneof![
        4 => vec(select(users.clone()).prop_map(|id| json!({"value": id})), 1..3)
            .prop_map(|m| (Some("members".to_owned()), Value::Array(m))),
        2 => select(users).prop_map(|id| (Some(format!("members[value eq \"{id}\"]")), Value::Null)),
        2 => plain_text().prop_map(|v| (Some("displayName".to_owned()), Value::String(v))),
        1 => plain_text().prop_map(|v| (None, json!({"displayName": v}))),
        1 => plain_text().prop_map(|v| (Some("externalId".to_owned()), Value::String(v))),
    ]
    .boxed()
}

/// A well-formed PatchOp document of such operations.
pub(crate) fn typed_patch_body(op: BoxedStrategy<Value>) -> BoxedStrategy<Vec<u8>> {
    vec(op, 1..4)
        .prop_map(|ops| {
            json!({"schemas": [PATCH_OP], "Operations": ops})
                .to_string()
                .into_bytes()
        })
        .boxed()
}

/// `PATCH` of the existing users and group: well-formed changes half of the time (they reach
/// the code that applies them), anything the grammar and mutations make otherwise.
pub(crate) fn patch_probe(targets: &Targets) -> BoxedStrategy<Probe> {
    let scim = &targets.scim;
    let user = format!("{scim}/Users/{}", targets.user);
    let member = format!("{scim}/Users/{}", targets.member);
    let group = format!("{scim}/Groups/{}", targets.group);
    let user_body = prop_oneof![
        1 => patch_body(patch_op(user_patch_path(), user_patch_value(targets))),
        1 => typed_patch_body(typed_op(typed_user_change(targets))),
    ]
    .boxed();
    let group_body = prop_oneof![
        1 => patch_body(patch_op(group_patch_path(targets), group_patch_value(targets))),
        1 => typed_patch_body(typed_op(typed_group_change(targets))),
    ];
    let huge = huge_text().prop_map(|huge| {
        json!({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "displayName", "value": huge}]})
            .to_string()
            .into_bytes()
    });
    let request = prop_oneof![
        200 => user_body.clone().prop_map(move |b| (user.clone(), b)),
        60 => user_body.prop_map(move |b| (member.clone(), b)),
        160 => group_body.prop_map({
            let group = group.clone();
            move |b| (group.clone(), b)
        }),
        1 => huge.prop_map(move |b| (group.clone(), b)),
    ];
    (request, content_type())
        .prop_map(|((path, body), content_type)| {
            Probe::scim(Kind::Patch, Method::PATCH, path).with_body(content_type, body)
        })
        .boxed()
}
