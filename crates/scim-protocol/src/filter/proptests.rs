//! Property test: printing any filter tree and parsing the text gives back the same tree.

use proptest::prelude::*;
use serde_json::Number;

use super::*;
use crate::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};

fn attr_path() -> impl Strategy<Value = AttrPath> {
    let name = "\\$?[a-zA-Z][a-zA-Z0-9_-]{0,7}";
    let uri = prop_oneof![
        Just(USER_SCHEMA.to_owned()),
        Just(ENTERPRISE_USER_SCHEMA.to_owned()),
        "urn:[a-z]{1,5}(:[a-zA-Z0-9.]{1,5}){0,3}",
    ];
    (proptest::option::of(uri), name, proptest::option::of(name)).prop_map(
        |(uri, attr, sub_attr)| AttrPath {
            uri,
            attr,
            sub_attr,
        },
    )
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        any::<String>().prop_map(CompValue::Str),
        any::<i64>().prop_map(|n| CompValue::Number(Number::from(n))),
        any::<u64>().prop_map(|n| CompValue::Number(Number::from(n))),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(CompValue::Number),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    proptest::sample::select(CompareOp::ALL.to_vec())
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        (attr_path(), op(), comp_value()).prop_map(|(path, op, value)| Filter::Compare {
            path,
            op,
            value
        }),
        attr_path().prop_map(Filter::Present),
    ]
}

/// And/Or/Not over `base`, a few levels deep.
fn combine(base: BoxedStrategy<Filter>) -> impl Strategy<Value = Filter> {
    base.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

fn filter_tree() -> impl Strategy<Value = Filter> {
    // Value filters hold no value paths of their own (RFC 7644 `valFilter`).
    let value_path =
        (attr_path(), combine(leaf().boxed())).prop_map(|(path, inner)| Filter::ValuePath {
            path,
            filter: Box::new(inner),
        });
    combine(prop_oneof![3 => leaf(), 1 => value_path].boxed())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn display_parses_back_to_the_same_tree(tree in filter_tree()) {
        let text = tree.to_string();
        prop_assert_eq!(parse_filter(&text), Ok(tree), "text: {}", text);
    }

    #[test]
    fn never_panics_on_arbitrary_input(input in "\\PC{0,80}") {
        let _ = parse_filter(&input);
    }

    #[test]
    fn never_panics_on_filter_like_input(input in "[a-z\\[\\]() \"\\\\.:$0-9-]{0,60}") {
        let _ = parse_filter(&input);
    }
}
