//! The core Group schema, `urn:ietf:params:scim:schemas:core:2.0:Group` (RFC 7643 §4.2, §8.7.1).

use super::{Attribute, GROUP_SCHEMA, Mutability, Returned, Schema, Uniqueness};

/// The core Group schema.
pub(super) static GROUP: Schema = Schema {
    id: GROUP_SCHEMA,
    name: "Group",
    description: "Group",
    attributes: &[
        // §8.7.1 says `required: false, uniqueness: none`, but §4.2 calls it REQUIRED, and we
        // enforce one group per displayName in a tenant, so advertise what we do.
        Attribute::string(
            "displayName",
            "A human-readable name for the Group. REQUIRED.",
        )
        .required()
        .uniqueness(Uniqueness::Server),
        Attribute::complex(
            "members",
            "A list of members of the Group.",
            &[
                Attribute::string("value", "Identifier of the member of this Group.")
                    .mutability(Mutability::Immutable),
                Attribute::reference(
                    "$ref",
                    "The URI of the member resource.",
                    &["User", "Group"],
                )
                .mutability(Mutability::Immutable),
                // Derived from the member's displayName (else userName) rather than stored as
                // sent, so read-only; and, as RFC 7643 §8.7.1 lists no `display` for members,
                // returned only when `attributes` asks for `members.display`.
                Attribute::string(
                    "display",
                    "The member's displayName, else its userName. Returned on request.",
                )
                .mutability(Mutability::ReadOnly)
                .returned(Returned::Request),
                Attribute::string("type", "The type of the member, 'User' or 'Group'.")
                    .canonical(&["User", "Group"])
                    .mutability(Mutability::Immutable),
            ],
        )
        .multi(),
    ],
};
