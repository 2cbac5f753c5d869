//! JSON values and SCIM documents: users, groups, enterprise attributes, members, bodies and content types.

use super::*;

/// Keys a SCIM document might have.
#[rustfmt::skip]
pub(crate) const KEYS: &[&str] = &[
    "userName", "name", "givenName", "familyName", "emails", "value", "type", "primary",
    "display", "members", "active", "id", "meta", "schemas", "externalId", "displayName",
    "Operations", "op", "path", "$ref", "manager", "department", "groups", "USERNAME", "",
    USER_SCHEMA, ENTERPRISE, GROUP_SCHEMA,
];

/// An object key: a SCIM name, a short word, or any text.
pub(crate) fn key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => one_of(KEYS),
        2 => re("[a-zA-Z$]{1,8}"),
        1 => text(),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
pub(crate) fn json_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        1 => Just(Value::Null),
        2 => any::<bool>().prop_map(Value::Bool),
        2 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>()
            .prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        4 => text().prop_map(Value::String),
    ];
    // Built once: the closure runs on every draw.
    let key = key();
    leaf.prop_recursive(3, 16, 4, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            vec((key.clone(), inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
    .boxed()
}

/// A text value.
pub(crate) fn text_value() -> BoxedStrategy<Value> {
    prop_oneof![4 => text().prop_map(Value::String), 1 => json_value()].boxed()
}

/// `schemas`: right, partly right, empty, or not an array of URNs.
pub(crate) fn schemas_value(right: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        8 => Just(json!(right)),
        1 => Just(json!([right[0]])),
        1 => Just(json!([])),
        1 => Just(json!(right[0])),
        1 => vec(one_of(&[USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE, PATCH_OP, "urn:x", ""]), 0..3)
            .prop_map(|s| json!(s)),
        1 => json_value(),
    ]
    .boxed()
}

/// An object from the pairs that are there.
pub(crate) fn object(pairs: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(
        pairs
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key.to_owned(), v)))
            .collect(),
    )
}

/// `userName`: mostly an address, now and then anything.
pub(crate) fn user_name() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => re("[a-z]{3,10}(\\.[a-z]{1,6})?@example\\.(com|org)").prop_map(Value::String),
        2 => text().prop_map(Value::String),
        1 => json_value(),
    ]
    .boxed()
}

/// `name`: the complex attribute, or a wrong type.
pub(crate) fn name_value() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (weighted(0.7, text_value()), weighted(0.7, text_value()), weighted(0.3, text_value()))
            .prop_map(|(given, family, formatted)| object(vec![
                ("givenName", given),
                ("familyName", family),
                ("formatted", formatted),
            ])),
        1 => json_value(),
    ]
    .boxed()
}

/// `emails`: value/type/primary objects, or a wrong type.
pub(crate) fn emails_value() -> BoxedStrategy<Value> {
    let email = (
        prop_oneof![3 => re("[a-z]{2,8}@[a-z]{2,6}\\.example"), 1 => text()],
        weighted(0.7, one_of(&["work", "home", "other", "", "WORK"])),
        weighted(
            0.5,
            prop_oneof![any::<bool>().prop_map(Value::Bool), json_value()],
        ),
    )
        .prop_map(|(value, kind, primary)| {
            object(vec![
                ("value", Some(Value::String(value))),
                ("type", kind.map(Value::String)),
                ("primary", primary),
            ])
        });
    prop_oneof![4 => vec(email, 0..3).prop_map(Value::Array), 1 => json_value()].boxed()
}

/// The enterprise extension object (with a manager now and then), or a wrong type.
pub(crate) fn enterprise_value(member: String) -> BoxedStrategy<Value> {
    let manager = prop_oneof![
        2 => Just(json!({"value": member})),
        1 => uuid().prop_map(|id| json!({"value": id})),
        1 => json_value(),
    ];
    prop_oneof![
        4 => (weighted(0.5, text_value()), weighted(0.6, text_value()), weighted(0.4, manager))
            .prop_map(|(number, department, manager)| object(vec![
                ("employeeNumber", number),
                ("department", department),
                ("manager", manager),
            ])),
        1 => json_value(),
    ]
    .boxed()
}

/// `active`: a boolean, a string that looks like one, or anything.
pub(crate) fn active_value() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => any::<bool>().prop_map(Value::Bool),
        1 => one_of(&["true", "False", "yes", ""]).prop_map(Value::String),
        1 => json_value(),
    ]
    .boxed()
}

/// Read-only attributes a client should not write.
pub(crate) fn read_only_pairs() -> BoxedStrategy<Vec<(String, Value)>> {
    prop_oneof![
        Just(Vec::new()),
        uuid().prop_map(|id| vec![("id".to_owned(), Value::String(id))]),
        json_value().prop_map(|v| vec![("meta".to_owned(), v)]),
        Just(vec![(
            "meta".to_owned(),
            json!({"resourceType": "Group", "version": "W/\"1\""})
        )]),
    ]
    .boxed()
}

/// A document around the SCIM User shape, with the enterprise extension now and then, wrong
/// types, read-only attributes and extra keys.
pub(crate) fn user_document(targets: &Targets) -> BoxedStrategy<Value> {
    (
        weighted(0.9, schemas_value(&[USER_SCHEMA, ENTERPRISE])),
        weighted(0.9, user_name()),
        weighted(0.4, name_value()),
        weighted(0.4, text_value()),
        weighted(0.3, active_value()),
        weighted(0.3, text_value()),
        weighted(0.4, emails_value()),
        weighted(0.3, enterprise_value(targets.member.clone())),
        read_only_pairs(),
        vec((key(), json_value()), 0..3),
    )
        .prop_map(
            |(schemas, user_name, name, display, active, external, emails, ext, ro, extra)| {
                let mut doc = object(vec![
                    ("schemas", schemas),
                    ("userName", user_name),
                    ("name", name),
                    ("displayName", display),
                    ("active", active),
                    ("externalId", external),
                    ("emails", emails),
                    (ENTERPRISE, ext),
                ]);
                if let Value::Object(map) = &mut doc {
                    map.extend(ro);
                    map.extend(extra);
                }
                doc
            },
        )
        .boxed()
}

/// A member reference: one of the users, the group itself, nobody, or junk.
pub(crate) fn member_ref(targets: &Targets) -> BoxedStrategy<Value> {
    let (user, member, group) = (
        targets.user.clone(),
        targets.member.clone(),
        targets.group.clone(),
    );
    prop_oneof![
        3 => Just(json!({"value": user})),
        2 => Just(json!({"value": member, "type": "User", "display": "Member"})),
        1 => Just(json!({"value": group})),
        1 => uuid().prop_map(|id| json!({"value": id})),
        1 => text().prop_map(|id| json!({"value": id})),
        1 => json_value(),
    ]
    .boxed()
}

/// A document around the SCIM Group shape.
pub(crate) fn group_document(targets: &Targets) -> BoxedStrategy<Value> {
    (
        weighted(0.9, schemas_value(&[GROUP_SCHEMA])),
        weighted(
            0.9,
            prop_oneof![
                4 => re("[A-Z][a-z]{2,10}( [A-Z][a-z]{2,8})?").prop_map(Value::String),
                2 => text().prop_map(Value::String),
                1 => json_value(),
            ],
        ),
        weighted(
            0.6,
            prop_oneof![
                4 => vec(member_ref(targets), 0..4).prop_map(Value::Array),
                1 => json_value(),
            ],
        ),
        weighted(0.3, text_value()),
        read_only_pairs(),
        vec((key(), json_value()), 0..3),
    )
        .prop_map(|(schemas, display, members, external, ro, extra)| {
            let mut doc = object(vec![
                ("schemas", schemas),
                ("displayName", display),
                ("members", members),
                ("externalId", external),
            ]);
            if let Value::Object(map) = &mut doc {
                map.extend(ro);
                map.extend(extra);
            }
            doc
        })
        .boxed()
}

/// A request body: the document as JSON (mutated now and then), or empty, or not JSON at all,
/// or nested past any parser's depth.
pub(crate) fn body_of(document: BoxedStrategy<Value>) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        24 => mutated(document.prop_map(|v| v.to_string().into_bytes()).boxed(), 5),
        1 => Just(Vec::new()),
        1 => one_of(&["  ", "\n", "null", "[]", "\"\"", "0", "{", "}", "{\"schemas\":",
                      "\u{feff}{}", "userName=alice", "<xml/>", "{\"a\":1,}", "{'a':1}"])
            .prop_map(String::into_bytes),
        1 => text().prop_map(String::into_bytes),
        1 => vec(any::<u8>(), 0..64),
        1 => (select(&["[", "{\"a\":"][..]), 100usize..20_000).prop_map(|(open, depth)| {
            let close = if open == "[" { "]" } else { "}" };
            format!("{}1{}", open.repeat(depth), close.repeat(depth)).into_bytes()
        }),
    ]
    .boxed()
}

/// A valid document with one attribute of about a mebibyte.
pub(crate) fn huge_body(base: Value, keys: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    (huge_text(), select(keys))
        .prop_map(move |(huge, key)| {
            let mut doc = base.clone();
            doc[key] = Value::String(huge);
            doc.to_string().into_bytes()
        })
        .boxed()
}

/// Mostly the SCIM media type, sometimes plain JSON, another type, or none.
pub(crate) fn content_type() -> BoxedStrategy<Option<String>> {
    prop_oneof![
        12 => Just(Some(SCIM_JSON.to_owned())),
        3 => Just(Some("application/json".to_owned())),
        1 => one_of(&["application/scim+json; charset=utf-8", "text/plain",
                      "application/x-www-form-urlencoded", "application/xml",
                      "multipart/form-data", "application/scim+json; charset=latin1", "*/*",
                      "a/b;;;", "APPLICATION/SCIM+JSON"])
            .prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}
