//! The Enterprise User extension, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`
//! (RFC 7643 §4.3, §8.7.1).

use super::{Attribute, ENTERPRISE_USER_SCHEMA, Mutability, Schema};

/// The Enterprise User extension schema.
pub(super) static ENTERPRISE_USER: Schema = Schema {
    id: ENTERPRISE_USER_SCHEMA,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        Attribute::string(
            "employeeNumber",
            "Identifier assigned to a person, typically based on order of hire.",
        ),
        Attribute::string("costCenter", "Identifies the name of a cost center."),
        Attribute::string("organization", "Identifies the name of an organization."),
        Attribute::string("division", "Identifies the name of a division."),
        Attribute::string("department", "Identifies the name of a department."),
        Attribute::complex(
            "manager",
            "The User's manager, referencing the 'id' of another User.",
            &[
                Attribute::string("value", "The id of the manager's User resource."),
                Attribute::reference("$ref", "The URI of the manager's User resource.", &["User"]),
                Attribute::string("displayName", "The displayName of the manager.")
                    .mutability(Mutability::ReadOnly),
            ],
        ),
    ],
};
