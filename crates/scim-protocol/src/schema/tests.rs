//! Unit tests for the schema definitions, lookup and rendering.

use super::*;
use crate::attr_path::AttrPath;

fn resolve(kind: ResourceKind, text: &str) -> Option<ResolvedAttr> {
    let path: AttrPath = match text.parse() {
        Ok(path) => path,
        Err(e) => panic!("{text:?} should parse: {e}"),
    };
    find_attribute(kind, &path)
}

fn canonical(kind: ResourceKind, text: &str) -> String {
    match resolve(kind, text) {
        Some(found) => found.canonical_path(),
        None => panic!("{text:?} should resolve"),
    }
}

#[test]
fn resolves_user_paths_to_canonical_spelling() {
    let user = ResourceKind::User;
    assert_eq!(canonical(user, "userName"), "userName");
    assert_eq!(canonical(user, "USERNAME"), "userName");
    assert_eq!(canonical(user, "name.givenName"), "name.givenName");
    assert_eq!(canonical(user, "Name.GivenName"), "name.givenName");
    assert_eq!(
        canonical(
            user,
            "urn:ietf:params:scim:schemas:core:2.0:User:name.familyName"
        ),
        "name.familyName"
    );
    assert_eq!(canonical(user, "emails.value"), "emails.value");
    assert_eq!(canonical(user, "meta.lastModified"), "meta.lastModified");
    assert_eq!(canonical(user, "ID"), "id");
    assert_eq!(canonical(user, "externalid"), "externalId");
    assert_eq!(canonical(user, "groups.$ref"), "groups.$ref");
    assert_eq!(
        canonical(
            user,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        ),
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
    );
    assert_eq!(
        canonical(
            user,
            "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:EMPLOYEENUMBER"
        ),
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
    );
    // Unqualified extension attributes resolve too, after the core schema.
    assert_eq!(
        canonical(user, "department"),
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
    );
}

#[test]
fn reports_origin_and_definition() {
    let found = resolve(ResourceKind::User, "userName");
    let Some(found) = found else {
        panic!("userName")
    };
    assert_eq!(found.origin, AttrOrigin::Core);
    assert_eq!(found.schema.id, USER_SCHEMA);
    assert!(!found.case_exact());
    assert!(found.attribute.required);
    assert_eq!(found.attribute.uniqueness, Uniqueness::Server);

    let Some(id) = resolve(ResourceKind::Group, "id") else {
        panic!("id")
    };
    assert_eq!(id.origin, AttrOrigin::Common);
    assert_eq!(id.schema.id, GROUP_SCHEMA);
    assert!(id.case_exact());
    assert_eq!(id.attribute.mutability, Mutability::ReadOnly);
    assert_eq!(id.attribute.returned, Returned::Always);

    let Some(manager) = resolve(ResourceKind::User, "manager.displayName") else {
        panic!("manager.displayName")
    };
    assert!(manager.is_extension());
    assert_eq!(manager.definition().mutability, Mutability::ReadOnly);
    assert_eq!(manager.name(), "manager");
    assert_eq!(manager.sub_name(), Some("displayName"));

    let Some(emails) = resolve(ResourceKind::User, "emails") else {
        panic!("emails")
    };
    assert!(emails.attribute.multi_valued);
    assert_eq!(emails.attribute.kind, AttrType::Complex);

    let Some(password) = resolve(ResourceKind::User, "password") else {
        panic!("password")
    };
    assert_eq!(password.attribute.mutability, Mutability::WriteOnly);
    assert_eq!(password.attribute.returned, Returned::Never);

    let Some(groups) = resolve(ResourceKind::User, "groups") else {
        panic!("groups")
    };
    assert_eq!(groups.attribute.mutability, Mutability::ReadOnly);
}

#[test]
fn resolves_group_paths() {
    let group = ResourceKind::Group;
    assert_eq!(canonical(group, "DISPLAYNAME"), "displayName");
    assert_eq!(canonical(group, "members.value"), "members.value");
    assert_eq!(canonical(group, "members.$ref"), "members.$ref");
    assert_eq!(canonical(group, "meta.created"), "meta.created");
    let Some(display) = resolve(group, "displayName") else {
        panic!("displayName")
    };
    assert_eq!(display.attribute.uniqueness, Uniqueness::Server);
    assert!(!display.case_exact());
    // The server derives a member's display name: read-only, and returned on request only.
    let Some(member_display) = resolve(group, "members.display") else {
        panic!("members.display")
    };
    let sub = member_display.definition();
    assert_eq!(sub.mutability, Mutability::ReadOnly);
    assert_eq!(sub.returned, Returned::Request);
}

#[test]
fn rejects_unknown_paths() {
    assert!(resolve(ResourceKind::User, "nope").is_none());
    assert!(resolve(ResourceKind::User, "name.nope").is_none());
    assert!(resolve(ResourceKind::User, "userName.sub").is_none());
    assert!(resolve(ResourceKind::User, "members").is_none());
    assert!(resolve(ResourceKind::Group, "userName").is_none());
    assert!(resolve(ResourceKind::Group, "employeeNumber").is_none());
    assert!(
        resolve(
            ResourceKind::Group,
            "urn:ietf:params:scim:schemas:core:2.0:User:userName"
        )
        .is_none()
    );
    assert!(resolve(ResourceKind::User, "urn:example:other:1.0:userName").is_none());
}

#[test]
fn lists_schemas_per_kind() {
    let ids = |kind: ResourceKind| kind.schemas().iter().map(|s| s.id).collect::<Vec<_>>();
    assert_eq!(
        ids(ResourceKind::User),
        [USER_SCHEMA, ENTERPRISE_USER_SCHEMA]
    );
    assert_eq!(ids(ResourceKind::Group), [GROUP_SCHEMA]);
    assert_eq!(ResourceKind::User.core_schema_urn(), USER_SCHEMA);
    assert_eq!(ResourceKind::Group.extensions().len(), 0);
    assert_eq!(all_schemas().len(), 3);
    assert_eq!(
        find_schema("URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:GROUP").map(|s| s.name),
        Some("Group")
    );
}

#[test]
fn defines_every_rfc_7643_user_attribute() {
    let names: Vec<_> = user_schema().attributes.iter().map(|a| a.name).collect();
    assert_eq!(
        names,
        [
            "userName",
            "name",
            "displayName",
            "nickName",
            "profileUrl",
            "title",
            "userType",
            "preferredLanguage",
            "locale",
            "timezone",
            "active",
            "password",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "groups",
            "entitlements",
            "roles",
            "x509Certificates",
        ]
    );
    let subs = |name: &str| {
        user_schema()
            .attribute(name)
            .map(|a| a.sub_attributes.iter().map(|s| s.name).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    assert_eq!(
        subs("name"),
        [
            "formatted",
            "familyName",
            "givenName",
            "middleName",
            "honorificPrefix",
            "honorificSuffix"
        ]
    );
    for multi in [
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "entitlements",
        "roles",
        "x509Certificates",
    ] {
        assert_eq!(
            subs(multi),
            ["value", "display", "type", "primary"],
            "{multi}"
        );
    }
    assert_eq!(subs("groups"), ["value", "$ref", "display", "type"]);
    let enterprise: Vec<_> = enterprise_user_schema()
        .attributes
        .iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(
        enterprise,
        [
            "employeeNumber",
            "costCenter",
            "organization",
            "division",
            "department",
            "manager"
        ]
    );
    let members = group_schema()
        .attribute("members")
        .map(|a| a.sub_attributes.len());
    assert_eq!(members, Some(4));
}

#[test]
fn renders_the_schemas_endpoint_representation() {
    let json = schema_json(user_schema(), "https://example.com/scim/v2/");
    assert_eq!(json["schemas"][0], SCHEMA_SCHEMA);
    assert_eq!(json["id"], USER_SCHEMA);
    assert_eq!(json["name"], "User");
    assert_eq!(json["meta"]["resourceType"], "Schema");
    assert_eq!(
        json["meta"]["location"],
        format!("https://example.com/scim/v2/Schemas/{USER_SCHEMA}")
    );
    let user_name = &json["attributes"][0];
    assert_eq!(
        user_name,
        &serde_json::json!({
            "name": "userName",
            "type": "string",
            "multiValued": false,
            "description": user_name["description"],
            "required": true,
            "caseExact": false,
            "mutability": "readWrite",
            "returned": "default",
            "uniqueness": "server",
        })
    );
    let emails = &json["attributes"][12];
    assert_eq!(emails["name"], "emails");
    assert_eq!(emails["multiValued"], true);
    assert_eq!(
        emails["subAttributes"][2]["canonicalValues"],
        serde_json::json!(["work", "home", "other"])
    );
    let profile = &json["attributes"][4];
    assert_eq!(profile["referenceTypes"], serde_json::json!(["external"]));

    let group = schema_json(group_schema(), "/scim/v2");
    assert_eq!(
        group["meta"]["location"],
        format!("/scim/v2/Schemas/{GROUP_SCHEMA}")
    );
    assert_eq!(
        group["attributes"][1]["subAttributes"][0]["mutability"],
        "immutable"
    );
}

#[test]
fn parses_standalone_attribute_paths() {
    let parsed: Result<AttrPath, _> = " name.givenName ".parse();
    assert_eq!(parsed, Ok(AttrPath::with_sub("name", "givenName")));
    let bad: Result<AttrPath, _> = "naïve".parse();
    let Err(e) = bad else {
        panic!("should not parse")
    };
    assert_eq!(e.position, 2);
    assert_eq!(
        e.to_string(),
        "unexpected character \"ï\" at position 2 in attribute path"
    );
    assert!("".parse::<AttrPath>().is_err());
    assert!("a..b".parse::<AttrPath>().is_err());
}
