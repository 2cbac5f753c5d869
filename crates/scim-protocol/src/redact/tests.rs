use serde_json::json;

use super::*;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

fn text(value: &Value) -> String {
    value.to_string()
}

#[test]
fn a_password_is_redacted_in_every_resource_form() {
    for body in [
        json!({"userName": "a", "password": "hunter2"}),
        json!({"userName": "a", "PASSWORD": "hunter2"}),
        json!({"userName": "a", format!("{CORE}:password"): "hunter2"}),
        json!({"userName": "a", CORE: {"password": "hunter2"}}),
    ] {
        let redaction = redact_resource(ResourceKind::User, &body);
        assert!(!text(&redaction.value).contains("hunter2"), "{body}");
        assert!(text(&redaction.value).contains("\"userName\":\"a\""));
        assert_eq!(redaction.secrets, ["hunter2"], "{body}");
    }
}

#[test]
fn secret_looking_custom_keys_are_redacted_too() {
    let body = json!({
        "userName": "a",
        "urn:example:custom:2.0:User": {"apiToken": "t0k", "clientSecret": {"v": "s3c"}},
        ENTERPRISE: {"department": "Sales", "recoveryCredential": "c4"},
    });
    let redaction = redact_resource(ResourceKind::User, &body);
    let out = text(&redaction.value);
    for secret in ["t0k", "s3c", "c4"] {
        assert!(!out.contains(secret), "{out}");
    }
    assert!(out.contains("Sales"));
}

#[test]
fn patch_values_are_redacted_by_what_the_path_names() {
    let body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "password", "value": "p1"},
            {"op": "Replace", "path": format!("{CORE}:password"), "value": "p2"},
            {"op": "add", "value": {"password": "p3", "active": true}},
            {"op": "replace", "value": {format!("{CORE}:password"): "p4"}},
            {"op": "replace", "path": "name.givenName", "value": "Barbara"},
            {"op": "replace", "path": "password[", "value": "p5"},
        ]
    });
    let redaction = redact_patch(ResourceKind::User, &body);
    let out = text(&redaction.value);
    for secret in ["p1", "p2", "p3", "p4", "p5"] {
        assert!(!out.contains(&format!("\"{secret}\"")), "{secret} in {out}");
    }
    assert!(out.contains("Barbara") && out.contains("\"active\":true"));
    assert!(
        redaction.opaque,
        "an unparsable path naming a secret is opaque"
    );
}

#[test]
fn filters_keep_their_shape_without_the_secret() {
    let redaction = redact_filter(
        ResourceKind::User,
        r#"userName eq "bjensen" and password eq "hunter2""#,
    );
    assert_eq!(
        redaction.value,
        json!(r#"userName eq "bjensen" and password eq "[redacted]""#)
    );
    assert_eq!(redaction.secrets, ["hunter2"]);
    let untouched = redact_filter(ResourceKind::User, r#"userName eq "bjensen""#);
    assert_eq!(untouched.value, json!(r#"userName eq "bjensen""#));
    assert!(untouched.secrets.is_empty());
    let broken = redact_filter(ResourceKind::User, r#"password eq "oops"#);
    assert_eq!(broken.value, json!(REDACTED));
    assert!(broken.opaque);

    let search = redact_search(
        ResourceKind::User,
        &json!({"filter": "password co \"xyz\"", "count": 5}),
    );
    assert!(!text(&search.value).contains("xyz"));
    assert_eq!(search.secrets, ["xyz"]);
}

#[test]
fn scrub_removes_plain_escaped_and_encoded_forms() {
    let secrets = vec!["a\"b c".to_owned()];
    assert_eq!(scrub("x a\"b c y", &secrets), "x [redacted] y");
    assert_eq!(scrub(r#"x a\"b c y"#, &secrets), "x [redacted] y");
    assert_eq!(scrub("x a%22b%20c y", &secrets), "x [redacted] y");
    assert_eq!(scrub("nothing here", &[]), "nothing here");
}

#[test]
fn stored_documents_lose_their_secret_attributes() {
    let mut doc = json!({"userName": "a", "password": "p", ENTERPRISE: {"department": "x"}});
    strip_secrets(ResourceKind::User, &mut doc);
    assert_eq!(
        doc,
        json!({"userName": "a", ENTERPRISE: {"department": "x"}})
    );
}
