//! SCIM filters and list parameters, in the query string and in `.search` bodies.

use super::*;

#[rustfmt::skip]
pub(crate) const USER_ATTRS: &[&str] = &[
    "userName", "name", "name.givenName", "name.familyName", "name.formatted", "displayName",
    "nickName", "title", "userType", "active", "externalId", "id", "meta", "meta.created",
    "meta.lastModified", "meta.resourceType", "meta.version", "meta.location", "emails",
    "emails.value", "emails.type", "emails.primary", "phoneNumbers.value", "addresses.locality",
    "groups", "groups.value", "groups.display", "roles.value", "x509Certificates.value",
    "timezone", "locale", "password", "schemas", "USERNAME", "Emails.Value",
];
#[rustfmt::skip]
pub(crate) const GROUP_ATTRS: &[&str] = &[
    "displayName", "members", "members.value", "members.display", "members.type",
    "members.$ref", "externalId", "id", "meta.lastModified",
];
#[rustfmt::skip]
pub(crate) const ENTERPRISE_ATTRS: &[&str] = &[
    "employeeNumber", "department", "costCenter", "organization", "division", "manager",
    "manager.value", "manager.displayName", "manager.$ref",
];
/// Multi-valued (or complex) attributes a value path can filter.
#[rustfmt::skip]
pub(crate) const MULTI: &[&str] = &[
    "emails", "phoneNumbers", "addresses", "groups", "members", "roles", "x509Certificates",
    "name", "userName", "manager",
];
#[rustfmt::skip]
pub(crate) const SUB_ATTRS: &[&str] = &["value", "type", "primary", "display", "$ref", "givenName", "x"];
#[rustfmt::skip]
pub(crate) const OPERATORS: &[&str] = &[
    "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le", "EQ", "Ne", "cO", "GT", "lE",
];
#[rustfmt::skip]
pub(crate) const LITERALS: &[&str] = &[
    "true", "false", "null", "True", "FALSE", "NULL", "1e400", "-0", "0.5e-3", "1E+2", "+1",
    "01", ".5", "5.", "\"\"", "\"2024-01-01T00:00:00Z\"", "\"2024-13-45T99:99:99Z\"",
    "\"\\u0000\"", "\"\\ud800\"", "\"unterminated", "''", "\"a\"\"b\"", "9223372036854775808",
];

/// An attribute path: core, group or enterprise names, URN-qualified or not, sub-attributes,
/// unknown names.
pub(crate) fn attr_path() -> BoxedStrategy<String> {
    prop_oneof![
        6 => one_of(USER_ATTRS),
        2 => one_of(GROUP_ATTRS),
        2 => one_of(ENTERPRISE_ATTRS).prop_map(|a| format!("{ENTERPRISE}:{a}")),
        2 => one_of(USER_ATTRS).prop_map(|a| format!("{USER_SCHEMA}:{a}")),
        1 => one_of(GROUP_ATTRS).prop_map(|a| format!("{GROUP_SCHEMA}:{a}")),
        1 => re("urn:[a-z]{1,5}(:[a-zA-Z0-9.]{1,5}){0,3}:[a-zA-Z]{1,8}"),
        1 => re("\\$?[a-zA-Z][a-zA-Z0-9_$-]{0,10}(\\.[a-zA-Z]{1,6})?"),
    ]
    .boxed()
}

/// A comparison value: a JSON string of any text, numbers, booleans, null, and near misses.
pub(crate) fn literal() -> BoxedStrategy<String> {
    prop_oneof![
        5 => text().prop_map(|s| Value::String(s).to_string()),
        2 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|x| x.to_string()),
        2 => one_of(LITERALS),
    ]
    .boxed()
}

/// `attr op value` or `attr pr`.
pub(crate) fn comparison(path: BoxedStrategy<String>) -> BoxedStrategy<String> {
    prop_oneof![
        6 => (path.clone(), one_of(OPERATORS), literal())
            .prop_map(|(a, op, v)| format!("{a} {op} {v}")),
        1 => path.prop_map(|a| format!("{a} pr")),
    ]
    .boxed()
}

/// `emails[type eq "work" and value co "@"]`, URN-qualified now and then, with a
/// sub-attribute after it now and then (valid in PATCH paths only).
pub(crate) fn value_path() -> BoxedStrategy<String> {
    let inner = comparison(one_of(SUB_ATTRS));
    (
        weighted(0.2, one_of(&[USER_SCHEMA, GROUP_SCHEMA, ENTERPRISE])),
        one_of(MULTI),
        inner.clone(),
        weighted(0.3, (one_of(&["and", "or"]), inner)),
        weighted(0.3, one_of(SUB_ATTRS)),
    )
        .prop_map(|(urn, attr, first, more, sub)| {
            let prefix = urn.map(|u| format!("{u}:")).unwrap_or_default();
            let more = more.map(|(l, f)| format!(" {l} {f}")).unwrap_or_default();
            let sub = sub.map(|s| format!(".{s}")).unwrap_or_default();
            format!("{prefix}{attr}[{first}{more}]{sub}")
        })
        .boxed()
}

/// A filter from the RFC 7644 grammar: comparisons, presence, value paths, and/or/not and
/// parentheses, a few levels deep.
pub(crate) fn filter() -> BoxedStrategy<String> {
    let leaf = prop_oneof![5 => comparison(attr_path()), 1 => value_path()];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            3 => (inner.clone(), one_of(&["and", "or", "AND", "Or"]), inner.clone())
                .prop_map(|(a, l, b)| format!("{a} {l} {b}")),
            1 => inner.clone().prop_map(|f| format!("({f})")),
            1 => (one_of(&["not", "NOT", "Not"]), inner).prop_map(|(n, f)| format!("{n} ({f})")),
        ]
    })
    .boxed()
}

/// A filter nested thousands deep, or a chain of thousands of terms.
pub(crate) fn deep_filter() -> BoxedStrategy<String> {
    (0usize..4, 50usize..2_000)
        .prop_map(|(shape, n)| match shape {
            0 => format!("{}userName eq \"a\"{}", "(".repeat(n), ")".repeat(n)),
            1 => format!("{}userName pr{}", "not (".repeat(n), ")".repeat(n)),
            2 => vec!["active eq true"; n].join(" and "),
            _ => format!("{}value eq 1{}", "emails[".repeat(n), "]".repeat(n)),
        })
        .boxed()
}

/// A filter as sent: grammar, deep, or text, mutated now and then.
pub(crate) fn filter_bytes() -> BoxedStrategy<Vec<u8>> {
    mutated_text(prop_oneof![12 => filter(), 1 => deep_filter(), 1 => text()].boxed())
}

/// One piece of a query string.
#[derive(Debug, Clone)]
pub(crate) enum QueryPart {
    /// `name=value`, both percent-encoded whole.
    Pair(String, Vec<u8>),
    /// As it is: a malformed piece.
    Raw(String),
}

#[rustfmt::skip]
pub(crate) const RAW_QUERY: &[&str] = &[
    "%", "%G0", "&", "=", "==", "%zz=1", "filter", "filter=", "filter=%", "count=%FF",
    "a=%00", "+", "%2", "startIndex=1%00", "%00=1", "filter=userName%20eq%20%22a", ";",
    "count=1;count=2", "filter=%C0%AE", "attributes=%FF%FE",
];

/// `name=<value>` with a generated value.
pub(crate) fn pair(name: &'static str, value: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<QueryPart> {
    value
        .prop_map(move |v| QueryPart::Pair(name.to_owned(), v))
        .boxed()
}

/// A malformed query piece.
pub(crate) fn raw_query() -> BoxedStrategy<QueryPart> {
    one_of(RAW_QUERY).prop_map(QueryPart::Raw).boxed()
}

/// `?a=b&…`, or nothing.
pub(crate) fn query_string(parts: &[QueryPart]) -> String {
    if parts.is_empty() {
        return String::new();
    }
    let pieces: Vec<String> = parts
        .iter()
        .map(|part| match part {
            QueryPart::Pair(name, value) => {
                format!("{}={}", encode(name.as_bytes()), encode(value))
            }
            QueryPart::Raw(raw) => raw.clone(),
        })
        .collect();
    format!("?{}", pieces.join("&"))
}

/// Known values and near misses, mutated now and then.
pub(crate) fn choice(known: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    mutated_text(prop_oneof![3 => one_of(known), 1 => text()].boxed())
}

#[rustfmt::skip]
pub(crate) const NUMBERS: &[&str] = &[
    "1", "0", "-1", "2", "10", "1000", "2147483647", "2147483648", "-2147483649",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "99999999999999999999", "1.5", "1e3", "0x10", "+5", "", "  1", "abc", "١", "NaN", "-0",
    "00001",
];

/// A `startIndex` or `count`: numbers, overflows, non-numbers.
pub(crate) fn number() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        3 => choice(NUMBERS),
        1 => any::<i64>().prop_map(|n| n.to_string().into_bytes()),
    ]
    .boxed()
}

/// `a,b.c,urn:…:d` lists of attribute paths.
pub(crate) fn attr_list() -> BoxedStrategy<Vec<u8>> {
    mutated_text(
        (vec(attr_path(), 0..5), one_of(&[",", ", ", " ,", ";"]))
            .prop_map(|(paths, comma)| paths.join(&comma))
            .boxed(),
    )
}

/// One list parameter (name in any case) or a malformed piece.
pub(crate) fn list_param() -> BoxedStrategy<QueryPart> {
    prop_oneof![
        5 => pair("filter", filter_bytes()),
        1 => pair("FILTER", filter_bytes()),
        2 => pair("startIndex", number()),
        2 => pair("count", number()),
        1 => pair("COUNT", number()),
        1 => pair("sortBy", mutated_text(attr_path())),
        1 => pair("sortOrder", choice(&["ascending", "descending", "ASCENDING", "asc", "", "x"])),
        1 => pair("attributes", attr_list()),
        1 => pair("excludedAttributes", attr_list()),
        1 => raw_query(),
    ]
    .boxed()
}

/// `GET /Users` or `/Groups` (or one of them by id) with list and projection parameters.
pub(crate) fn list_probe(targets: &Targets) -> BoxedStrategy<Probe> {
    let scim = &targets.scim;
    let paths = vec![
        format!("{scim}/Users"),
        format!("{scim}/Groups"),
        format!("{scim}/Users"),
        format!("{scim}/Groups"),
        format!("{scim}/Users/{}", targets.user),
        format!("{scim}/Groups/{}", targets.group),
    ];
    (select(paths), vec(list_param(), 0..6))
        .prop_map(|(path, parts)| {
            Probe::scim(
                Kind::Filter,
                Method::GET,
                format!("{path}{}", query_string(&parts)),
            )
        })
        .boxed()
}

/// `startIndex` or `count` in a SearchRequest: mostly small numbers.
pub(crate) fn search_number() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => (-2i64..60).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => json_value(),
    ]
    .boxed()
}

/// `attributes` or `excludedAttributes` in a SearchRequest: mostly arrays of paths.
pub(crate) fn search_attributes() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => vec(attr_path(), 0..4).prop_map(|a| json!(a)),
        1 => json_value(),
    ]
    .boxed()
}

/// `POST /Users/.search` or `/Groups/.search` with a SearchRequest around a generated filter.
pub(crate) fn search_probe(targets: &Targets) -> BoxedStrategy<Probe> {
    let request = (
        weighted(0.9, schemas_value(&[SEARCH_REQUEST])),
        weighted(
            0.9,
            prop_oneof![
                6 => filter_bytes().prop_map(|b| Value::String(String::from_utf8_lossy(&b).into_owned())),
                1 => json_value(),
            ],
        ),
        weighted(0.3, search_number()),
        weighted(0.3, search_number()),
        weighted(0.2, attr_path().prop_map(Value::String)),
        weighted(0.2, one_of(&["ascending", "descending", "x"]).prop_map(Value::String)),
        weighted(0.3, search_attributes()),
        weighted(0.2, search_attributes()),
    )
        .prop_map(|(schemas, filter, start, count, sort_by, order, attrs, excluded)| {
            object(vec![
                ("schemas", schemas),
                ("filter", filter),
                ("startIndex", start),
                ("count", count),
                ("sortBy", sort_by),
                ("sortOrder", order),
                ("attributes", attrs),
                ("excludedAttributes", excluded),
            ])
        })
        .boxed();
    let body = prop_oneof![
        100 => body_of(request),
        1 => huge_body(json!({"schemas": [SEARCH_REQUEST]}), &["filter", "sortBy"]),
    ];
    let paths = vec![
        format!("{}/Users/.search", targets.scim),
        format!("{}/Groups/.search", targets.scim),
    ];
    (select(paths), body, content_type())
        .prop_map(|(path, body, content_type)| {
            Probe::scim(Kind::Search, Method::POST, path).with_body(content_type, body)
        })
        .boxed()
}
