//! The request shapes Okta and Microsoft Entra ID send, applied to documents.

use serde_json::json;

use super::*;
use crate::schema::ENTERPRISE_USER_SCHEMA;

#[test]
fn okta_deactivates_with_a_pathless_replace() {
    let out = user_patched(json!([{"op": "replace", "value": {"active": false}}]));
    assert_eq!(out["active"], false);
}

#[test]
fn okta_renames_a_group_repeating_its_id() {
    let out = patched(
        ResourceKind::Group,
        group(),
        json!([{"op": "replace", "value": {"id": GROUP_ID, "displayName": "Test SCIMv2"}}]),
    );
    assert_eq!(out["displayName"], "Test SCIMv2");
    assert_eq!(out["id"], GROUP_ID);
    let e = patch_err(
        ResourceKind::Group,
        group(),
        json!([{"op": "replace", "value": {"id": "another", "displayName": "Test SCIMv2"}}]),
    );
    assert_eq!(e.scim_type(), "mutability");
}

#[test]
fn okta_sets_a_password() {
    let out = user_patched(json!([{"op": "replace", "value": {"password": "t1meMa$heen"}}]));
    assert_eq!(out["password"], "t1meMa$heen");
}

#[test]
fn okta_adds_and_removes_members_in_memory() {
    let added = patched(
        ResourceKind::Group,
        group(),
        json!([{"op": "add", "path": "members", "value": [{"value": "23a35c27", "display": "test.user@okta.local"}]}]),
    );
    assert_eq!(
        added["members"][1],
        json!({"value": "23a35c27", "display": "test.user@okta.local"})
    );
    let removed = patched(
        ResourceKind::Group,
        added,
        json!([{"op": "remove", "path": "members[value eq \"23a35c27\"]"}]),
    );
    assert_eq!(removed, group());
}

#[test]
fn entra_updates_the_work_email_and_family_name() {
    let out = user_patched(json!([
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
        {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
    ]));
    assert_eq!(
        out["emails"][0],
        json!({"value": "updatedEmail@microsoft.com", "type": "work", "primary": true})
    );
    assert_eq!(out["name"]["familyName"], "updatedFamilyName");
}

#[test]
fn entra_disables_with_string_booleans() {
    for value in [json!(false), json!("False"), json!("false")] {
        let out = user_patched(json!([{"op": "Replace", "path": "active", "value": value}]));
        assert_eq!(out["active"], false);
    }
    let out = user_patched(json!([{"op": "Replace", "value": {"active": "True"}}]));
    assert_eq!(out["active"], true);
}

#[test]
fn entra_adds_a_work_email_that_was_not_there() {
    let mut bare = user();
    if let Some(obj) = bare.as_object_mut() {
        obj.remove("emails");
    }
    let out = patched(
        ResourceKind::User,
        bare,
        json!([{"op": "Add", "path": "emails[type eq \"work\"].value", "value": "ann@contoso.com"}]),
    );
    assert_eq!(
        out["emails"],
        json!([{"type": "work", "value": "ann@contoso.com"}])
    );
}

#[test]
fn entra_sets_and_removes_the_manager_by_bare_id() {
    let out = user_patched(
        json!([{"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m-42"}]),
    );
    assert_eq!(
        out[ENTERPRISE_USER_SCHEMA],
        json!({"manager": {"value": "m-42"}})
    );
    assert_eq!(out["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
    let out = patched(
        ResourceKind::User,
        out,
        json!([{"op": "Remove", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]),
    );
    assert_eq!(out, user());
}

#[test]
fn entra_pathless_add_with_qualified_and_dotted_keys() {
    let out = user_patched(json!([{
        "op": "Add",
        "value": {
            "displayName": "Ann Smith",
            "name.givenName": "Ann",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Sales",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "1234",
            "emails[type eq \"work\"].value": "ann@contoso.com",
            "phoneNumbers[type eq \"mobile\"].value": "+1 555 0100",
            "addresses[type eq \"work\"].locality": "Redmond"
        }
    }]));
    assert_eq!(out["displayName"], "Ann Smith");
    assert_eq!(out["name"]["givenName"], "Ann");
    assert_eq!(out["emails"][0]["value"], "ann@contoso.com");
    assert_eq!(
        out["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
    assert_eq!(
        out["addresses"],
        json!([{"type": "work", "locality": "Redmond"}])
    );
    assert_eq!(
        out[ENTERPRISE_USER_SCHEMA],
        json!({"department": "Sales", "employeeNumber": "1234"})
    );
}

#[test]
fn entra_roles_with_string_primary() {
    let out = user_patched(json!([{"op": "Add", "path": "roles", "value": [
        {"primary": "True", "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}
    ]}]));
    assert_eq!(
        out["roles"],
        json!([{"primary": true, "type": "WindowsAzureActiveDirectoryRole", "value": "Admin"}])
    );
}

#[test]
fn entra_group_rename_and_member_shapes_apply_in_memory() {
    let out = patched(
        ResourceKind::Group,
        group(),
        json!([
            {"op": "Replace", "path": "displayName", "value": "1879db59updatedDisplayName"},
            {"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]},
            {"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "u1"}]}
        ]),
    );
    assert_eq!(out["displayName"], "1879db59updatedDisplayName");
    assert_eq!(out["members"], json!([{"value": "f648f8d5ea4e4cd38e9c"}]));
}
