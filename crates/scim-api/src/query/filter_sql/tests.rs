//! Translation tests: placeholders, index-friendly shapes, refused filters.

use scim_protocol::parse_filter;

use super::*;

fn sql(kind: ResourceKind, filter: &str) -> Result<Condition, ScimError> {
    condition(kind, &parse_filter(filter).map_err(ScimError::from)?)
}

/// Every `$?` has exactly one bind, whatever the filter.
fn placeholders_match(c: &Condition) -> bool {
    c.sql.matches("$?").count() == c.binds.len()
}

#[test]
fn user_name_eq_uses_the_indexed_lower_expression() -> Result<(), ScimError> {
    let c = sql(ResourceKind::User, r#"userName eq "Bjensen@Example.com""#)?;
    assert_eq!(
        c.sql, "u.user_name_key = lower($?)",
        "bare, so that the per-tenant user_name_key index applies"
    );
    assert_eq!(c.binds, vec![SqlValue::Text("Bjensen@Example.com".into())]);
    Ok(())
}

#[test]
fn every_shape_binds_each_placeholder_once() -> Result<(), ScimError> {
    for filter in [
        r#"emails[type eq "work" and value ew "@example.com"]"#,
        r#"emails.value co "x" or name.formatted sw "A""#,
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42""#,
        r#"not (active eq false) and title pr"#,
        r#"meta.lastModified gt "2026-01-01T00:00:00Z""#,
        r#"groups[display eq "Sales"] or groups.value eq "a1b2""#,
        r#"externalId ew "x" and nickName ew "y""#,
        r#"x509Certificates pr"#,
    ] {
        let c = sql(ResourceKind::User, filter)?;
        assert!(placeholders_match(&c), "{filter}: {c:?}");
    }
    let c = sql(
        ResourceKind::Group,
        r#"displayName eq "Sales & Marketing + Ops" and members[value eq "not-a-uuid"]"#,
    )?;
    assert!(placeholders_match(&c));
    assert!(
        c.sql.contains("FALSE"),
        "a non-UUID member id matches nothing: {}",
        c.sql
    );
    Ok(())
}

#[test]
fn unsupported_or_mistyped_filters_are_invalid_filter() {
    for filter in [
        r#"nosuchattribute eq "x""#,
        r#"active eq "yes""#,
        r#"active gt true"#,
        r#"meta.created gt "yesterday""#,
        r#"userName gt 5"#,
        r#"meta.resourceType eq "User""#,
        r#"members[type eq "User"]"#,
    ] {
        let kind = if filter.starts_with("members") {
            ResourceKind::Group
        } else {
            ResourceKind::User
        };
        let result = sql(kind, filter);
        assert!(
            matches!(&result, Err(e) if e.scim_type == Some("invalidFilter")),
            "{filter} should be invalidFilter, got {result:?}"
        );
    }
}
