//! Unit tests for evaluating filters against JSON documents.

use serde_json::json;

use super::*;
use crate::schema::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};

fn p(input: &str) -> Filter {
    match parse_filter(input) {
        Ok(filter) => filter,
        Err(e) => panic!("{input:?} should parse: {e}"),
    }
}

fn user() -> serde_json::Value {
    json!({
        "userName": "Bjensen@Example.com",
        "active": true,
        "displayName": "",
        "title": null,
        "loginCount": 12,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "meta": {"lastModified": "2024-05-01T10:00:00Z"},
        ENTERPRISE_USER_SCHEMA: {"employeeNumber": "701984", "manager": {"value": "m1"}}
    })
}

fn m(filter: &str) -> bool {
    matches(&p(filter), &user(), |_| false)
}

#[test]
fn evaluates_each_operator() {
    assert!(m(r#"userName eq "bjensen@example.com""#));
    assert!(!m(r#"userName eq "bjensen""#));
    assert!(m(r#"userName ne "bjensen""#));
    assert!(!m(r#"userName ne "BJENSEN@example.com""#));
    assert!(m(r#"userName co "JENSEN""#));
    assert!(m(r#"userName sw "bjen""#));
    assert!(m(r#"userName ew ".COM""#));
    assert!(!m(r#"userName ew "example""#));
    assert!(m(r#"name.familyName gt "Doe""#));
    assert!(m(r#"name.familyName ge "jensen""#));
    assert!(m(r#"name.familyName lt "Smith""#));
    assert!(m(r#"name.familyName le "JENSEN""#));
    assert!(m("loginCount gt 9"));
    assert!(m("loginCount ge 12.0"));
    assert!(m("loginCount lt 100"));
    assert!(!m("loginCount le 11"));
    assert!(!m(r#"loginCount eq "12""#));
    assert!(m(r#"meta.lastModified gt "2024-01-01T00:00:00Z""#));
    assert!(m("active eq true"));
    assert!(!m("active gt false"));
    assert!(m("title eq null"));
    assert!(m("nickName eq null"));
    assert!(m("userName ne null"));
    assert!(m(r#"nickName ne "x""#));
}

#[test]
fn evaluates_presence() {
    assert!(m("userName pr"));
    assert!(!m("displayName pr"), "empty string is not present");
    assert!(!m("title pr"), "null is not present");
    assert!(!m("nickName pr"));
    assert!(m("emails pr"));
    assert!(m("emails.type pr"));
    assert!(m("NAME.GIVENNAME pr"), "keys are case-insensitive");
}

#[test]
fn evaluates_logic_and_value_paths() {
    assert!(m(r#"emails[type eq "work" and value co "@example.com"]"#));
    assert!(!m(r#"emails[type eq "home" and value co "@example.com"]"#));
    assert!(m(r#"emails[type eq "home"].value ew "jensen.org""#));
    assert!(
        m(r#"emails co "babs""#),
        "a complex value compares through its value"
    );
    assert!(m(r#"emails.value eq "babs@jensen.org""#));
    assert!(m(
        r#"not (userName eq "x") and (active eq false or loginCount gt 3)"#
    ));
    assert!(!m(r#"not (emails[primary eq true])"#));
    assert!(m(&format!(
        "{ENTERPRISE_USER_SCHEMA}:employeeNumber eq \"701984\""
    )));
    assert!(m(&format!(
        "{ENTERPRISE_USER_SCHEMA}:manager.value eq \"m1\""
    )));
    assert!(m(&format!("{USER_SCHEMA}:userName sw \"b\"")));
}

#[test]
fn honours_case_exact() {
    let filter = p(r#"userName eq "bjensen@example.com""#);
    assert!(!matches(&filter, &user(), |path| path.attr == "userName"));
    assert!(matches(&filter, &user(), |path| path.attr == "title"));
    // Inside a value path the callback sees the full path.
    let filter = p(r#"emails[type eq "WORK"]"#);
    let seen = std::cell::RefCell::new(Vec::new());
    let hit = matches(&filter, &user(), |path| {
        seen.borrow_mut().push(path.to_string());
        true
    });
    assert!(!hit);
    assert!(
        seen.borrow().contains(&"emails.type".to_owned()),
        "{seen:?}"
    );
}

#[test]
fn matches_member_elements() {
    let member = json!({"value": "2819c223", "display": "Babs"});
    assert!(matches(&p(r#"value eq "2819C223""#), &member, |_| false));
    assert!(!matches(&p(r#"value eq "2819C223""#), &member, |_| true));
    assert!(matches(
        &p(r#"Value EQ "2819c223" and display pr"#),
        &member,
        |_| false
    ));
}

#[test]
fn booleans_sent_as_strings_still_compare() {
    let element = json!({"primary": "True"});
    assert!(matches(&p("primary eq true"), &element, |_| false));
    assert!(!matches(&p("primary eq false"), &element, |_| false));
}
