//! Unit tests for the filter parser, printer and evaluator.

use serde_json::Number;

use super::*;
use crate::error::FilterError;
use crate::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};

fn p(input: &str) -> Filter {
    match parse_filter(input) {
        Ok(filter) => filter,
        Err(e) => panic!("{input:?} should parse: {e}"),
    }
}

fn err(input: &str) -> FilterError {
    match parse_filter(input) {
        Ok(filter) => panic!("{input:?} should not parse, got {filter:?}"),
        Err(e) => e,
    }
}

fn path(attr: &str) -> AttrPath {
    AttrPath::new(attr)
}

fn eq(attr: &str, value: &str) -> Filter {
    Filter::Compare {
        path: path(attr),
        op: CompareOp::Eq,
        value: CompValue::Str(value.into()),
    }
}

fn present(attr: &str) -> Filter {
    Filter::Present(path(attr))
}

fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

#[test]
fn parses_every_operator_in_any_case() {
    for op in CompareOp::ALL {
        for keyword in [op.as_str().to_owned(), op.as_str().to_uppercase()] {
            let filter = p(&format!("title {keyword} \"x\""));
            assert_eq!(
                filter,
                Filter::Compare {
                    path: path("title"),
                    op,
                    value: CompValue::Str("x".into())
                }
            );
        }
    }
    assert_eq!(p("title PR"), present("title"));
}

#[test]
fn parses_literals() {
    let value = |f: Filter| match f {
        Filter::Compare { value, .. } => value,
        other => panic!("not a comparison: {other:?}"),
    };
    assert_eq!(value(p("active eq true")), CompValue::Bool(true));
    assert_eq!(value(p("active eq False")), CompValue::Bool(false));
    assert_eq!(value(p("title eq NULL")), CompValue::Null);
    assert_eq!(value(p("n gt 42")), CompValue::Number(Number::from(42)));
    assert_eq!(value(p("n gt -7")), CompValue::Number(Number::from(-7)));
    let Some(fifteen_hundred) = Number::from_f64(1500.0) else {
        panic!("finite")
    };
    assert_eq!(value(p("n lt 1.5e3")), CompValue::Number(fifteen_hundred));
}

#[test]
fn and_binds_tighter_than_or() {
    let expected = or(present("a"), and(present("b"), present("c")));
    assert_eq!(p("a pr or b pr and c pr"), expected);
    assert_eq!(p("a pr OR b pr AND c pr"), expected);
    assert_eq!(
        p("a pr and b pr or c pr"),
        or(and(present("a"), present("b")), present("c"))
    );
}

#[test]
fn chains_are_left_associative() {
    assert_eq!(
        p("a pr or b pr or c pr"),
        or(or(present("a"), present("b")), present("c"))
    );
    assert_eq!(
        p("a pr and b pr and c pr"),
        and(and(present("a"), present("b")), present("c"))
    );
}

#[test]
fn parentheses_group() {
    assert_eq!(
        p("(a pr or b pr) and c pr"),
        and(or(present("a"), present("b")), present("c"))
    );
    assert_eq!(p("((a pr))"), present("a"));
    assert_eq!(
        p("a pr and (b pr and c pr)"),
        and(present("a"), and(present("b"), present("c")))
    );
}

#[test]
fn not_negates_a_group() {
    assert_eq!(p("not (a pr)"), Filter::Not(Box::new(present("a"))));
    assert_eq!(
        p("NOT(a pr or b pr) and c pr"),
        and(
            Filter::Not(Box::new(or(present("a"), present("b")))),
            present("c")
        )
    );
    // Without "(" it is just an attribute called `not`.
    assert_eq!(p("not pr"), present("not"));
}

#[test]
fn parses_value_paths() {
    let filter = p(r#"emails[type eq "work" and value co "@example.com"]"#);
    let expected = Filter::ValuePath {
        path: path("emails"),
        filter: Box::new(and(
            eq("type", "work"),
            Filter::Compare {
                path: path("value"),
                op: CompareOp::Co,
                value: CompValue::Str("@example.com".into()),
            },
        )),
    };
    assert_eq!(filter, expected);
    assert_eq!(
        p(r#"userType eq "Employee" and emails[type eq "work"]"#),
        and(
            eq("userType", "Employee"),
            Filter::ValuePath {
                path: path("emails"),
                filter: Box::new(eq("type", "work"))
            }
        )
    );
}

#[test]
fn reads_entra_value_path_with_trailing_comparison() {
    let filter = p(r#"emails[type eq "work"].value eq "x""#);
    let expected = Filter::ValuePath {
        path: path("emails"),
        filter: Box::new(and(eq("type", "work"), eq("value", "x"))),
    };
    assert_eq!(filter, expected);
    assert_eq!(
        filter.to_string(),
        r#"emails[type eq "work" and value eq "x"]"#
    );
    // Only a comparison may follow; a bare `.value` is a PATCH path, not a filter.
    let e = err(r#"emails[type eq "work"].value"#);
    assert!(e.message.contains("expected an operator"), "{e}");
}

#[test]
fn parses_urn_and_dollar_attributes() {
    let filter = p(&format!(
        "{ENTERPRISE_USER_SCHEMA}:employeeNumber eq \"42\""
    ));
    let Filter::Compare { path, .. } = filter else {
        panic!("not a comparison");
    };
    assert_eq!(path.uri.as_deref(), Some(ENTERPRISE_USER_SCHEMA));
    assert_eq!(path.attr, "employeeNumber");

    let filter = p(&format!("{USER_SCHEMA}:name.familyName sw \"J\""));
    let Filter::Compare { path, .. } = filter else {
        panic!("not a comparison");
    };
    assert_eq!(
        path,
        AttrPath::with_sub("name", "familyName").in_schema(USER_SCHEMA)
    );

    assert_eq!(
        p(r#"members[$ref eq "x"]"#).to_string(),
        r#"members[$ref eq "x"]"#
    );
    assert_eq!(
        p(&format!("{ENTERPRISE_USER_SCHEMA}:manager.value pr")),
        Filter::Present(AttrPath::with_sub("manager", "value").in_schema(ENTERPRISE_USER_SCHEMA))
    );
}

#[test]
fn resolves_string_escapes() {
    assert_eq!(p(r#"title eq "a \"b\"""#), eq("title", "a \"b\""));
    assert_eq!(p(r#"title eq "caf\u00e9""#), eq("title", "café"));
    assert_eq!(
        p(r#"title eq "back\\slash\n""#),
        eq("title", "back\\slash\n")
    );
    assert_eq!(p(r#"title eq "😀 \ud83d\ude00""#), eq("title", "😀 😀"));
    assert_eq!(p("title eq \"Zoë\""), eq("title", "Zoë"));
}

#[test]
fn parses_what_okta_and_entra_send() {
    assert_eq!(
        p(r#"userName eq "john@example.com""#),
        eq("userName", "john@example.com")
    );
    assert_eq!(
        p(r#"displayName eq "Sales & Marketing + Ops""#),
        eq("displayName", "Sales & Marketing + Ops")
    );
    assert_eq!(
        p(r#"externalId eq "00u1abcd""#),
        eq("externalId", "00u1abcd")
    );
    assert_eq!(
        p(r#"members[value eq "id"]"#),
        Filter::ValuePath {
            path: path("members"),
            filter: Box::new(eq("value", "id"))
        }
    );
    assert_eq!(p("userName  eq   \"x\"\t"), eq("userName", "x"));
}

#[test]
fn reports_what_and_where() {
    assert_eq!(
        err(r#"userName qq "x""#).to_string(),
        "unexpected token \"qq\" at position 9: expected an operator (eq, ne, co, sw, ew, pr, gt, ge, lt, le)"
    );
    let e = err("userName eq");
    assert_eq!(e.position, 11);
    assert!(
        e.message
            .starts_with("unexpected end of input at position 11: expected a value"),
        "{e}"
    );
    let e = err(r#"userName eq "open"#);
    assert_eq!(
        (e.position, e.message.as_str()),
        (12, "unterminated string starting at position 12")
    );
    let e = err(r#"title eq "bad \q escape""#);
    assert!(
        e.message
            .starts_with("invalid string starting at position 9"),
        "{e}"
    );
    let e = err(r#"a pr b pr"#);
    assert_eq!(e.position, 5);
    assert!(
        e.message
            .contains("expected \"and\", \"or\" or the end of the filter"),
        "{e}"
    );
    let e = err("(a pr");
    assert!(e.message.contains("expected \")\""), "{e}");
    let e = err(r#"emails[type eq "work""#);
    assert!(e.message.contains("\"]\" to close the value filter"), "{e}");
    assert_eq!(
        err("title eq #").message,
        "unexpected character \"#\" at position 9"
    );
    assert_eq!(
        err("n eq 12ab").message,
        "invalid number \"12ab\" at position 5"
    );
    assert_eq!(
        err("n eq 1.").message,
        "invalid number \"1.\" at position 5"
    );
    assert_eq!(
        err("n eq -x").message,
        "invalid number \"-x\" at position 5"
    );
    assert_eq!(
        err("n eq 1e999").message,
        "invalid number \"1e999\" at position 5"
    );
    assert_eq!(err("   ").message, "the filter is empty");
    assert!(
        err("a..b pr")
            .message
            .starts_with("invalid attribute path at position 0")
    );
    assert!(
        err("a.b.c pr")
            .message
            .contains("more than one sub-attribute")
    );
    assert!(
        err("and pr and")
            .message
            .contains("expected an attribute name")
    );
}

#[test]
fn rejects_nested_value_filters() {
    let e = err(r#"emails[type[value eq "x"] pr]"#);
    assert!(e.message.contains("value filters cannot be nested"), "{e}");
}

#[test]
fn bounds_nesting_depth() {
    let ok = format!("{}a pr{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert_eq!(p(&ok), present("a"));
    let deep = format!(
        "{}a pr{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    let e = err(&deep);
    assert!(e.message.contains("more than 32 levels"), "{e}");
    assert_eq!(e.position, MAX_DEPTH);
    // Far deeper than any stack could take recursively is still just an error.
    let hostile = format!("{}a pr", "not (".repeat(800));
    assert!(err(&hostile).message.contains("more than 32 levels"));
}

#[test]
fn bounds_input_length() {
    let long = format!("title eq \"{}\"", "x".repeat(MAX_FILTER_LEN));
    let e = err(&long);
    assert!(e.message.contains("the limit is 4096"), "{e}");
    let chain = vec!["a pr"; 400].join(" and ");
    assert!(chain.len() <= MAX_FILTER_LEN);
    assert!(parse_filter(&chain).is_ok());
}

#[test]
fn prints_canonical_text() {
    let cases = [
        (r#"userName EQ "x""#, r#"userName eq "x""#),
        ("a pr or b pr and c pr", "a pr or b pr and c pr"),
        ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
        ("a pr or (b pr or c pr)", "a pr or (b pr or c pr)"),
        ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
        ("NOT ( a pr )", "not (a pr)"),
        (r#"title eq "say \"hi\"""#, r#"title eq "say \"hi\"""#),
        ("n ge 1.50", "n ge 1.5"),
        ("active eq TRUE", "active eq true"),
    ];
    for (input, canonical) in cases {
        assert_eq!(p(input).to_string(), canonical, "for {input}");
        assert_eq!(p(canonical), p(input));
    }
}

#[test]
fn an_escaped_nul_in_a_string_is_refused() {
    let error = parse_filter(r#"userName eq "a\u0000b""#).err();
    assert!(
        error.as_ref().is_some_and(|e| e.message.contains("NUL")),
        "{error:?}"
    );
}
