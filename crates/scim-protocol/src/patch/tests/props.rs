//! Property tests for the PATCH engine.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::schema::{AttrType, user_schema};

/// Every single-valued string attribute of the core User schema.
fn string_attribute() -> impl Strategy<Value = &'static str> {
    let names: Vec<&'static str> = user_schema()
        .attributes
        .iter()
        .filter(|a| a.kind == AttrType::String && !a.multi_valued && a.name != "userName")
        .map(|a| a.name)
        .collect();
    proptest::sample::select(names)
}

/// Some case variation of `name`.
fn respell(name: &'static str) -> impl Strategy<Value = String> {
    proptest::collection::vec(any::<bool>(), name.len()).prop_map(move |upper| {
        name.chars()
            .zip(upper)
            .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
            .collect()
    })
}

proptest! {
    #[test]
    fn replace_then_read_back(
        (name, spelling) in string_attribute().prop_flat_map(|n| (Just(n), respell(n))),
        value in any::<String>(),
        pathless in any::<bool>(),
    ) {
        let op = if pathless {
            json!({"op": "replace", "value": {spelling: value}})
        } else {
            json!({"op": "replace", "path": spelling, "value": value})
        };
        let out = user_patched(json!([op]));
        prop_assert_eq!(&out[name], &Value::String(value));
        prop_assert_eq!(out.as_object().map(|o| o.len()), user().as_object().map(|o| o.len() + 1));
    }

    #[test]
    fn adding_members_twice_is_idempotent(
        members in proptest::collection::vec("[a-f0-9]{1,8}", 1..6),
    ) {
        let value: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
        let add = json!([{"op": "add", "path": "members", "value": value}]);
        let once = patched(ResourceKind::Group, group(), add.clone());
        let twice = patched(ResourceKind::Group, once.clone(), add);
        prop_assert_eq!(&once, &twice);
        let mut unique = members.clone();
        unique.sort();
        unique.dedup();
        let expected = unique.len() + usize::from(!unique.contains(&"u1".to_owned()));
        prop_assert_eq!(once["members"].as_array().map(Vec::len), Some(expected));
    }

    #[test]
    fn apply_never_panics_on_odd_values(value in arb_json(), path in "[a-zA-Z.]{1,20}") {
        for op in ["add", "replace", "remove"] {
            let mut doc = user();
            let operations = [
                json!({"op": op, "path": path, "value": value}),
                json!({"op": op, "value": {path.clone(): value}}),
            ];
            for operation in operations {
                if let Ok(parsed) = parse_patch(&body(json!([operation]))) {
                    let _ = apply(&mut doc, ResourceKind::User, &parsed);
                }
            }
        }
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(Value::from),
        "[a-zA-Z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::btree_map("[a-zA-Z]{1,6}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
