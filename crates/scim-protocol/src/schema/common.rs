//! The common attributes `id`, `externalId` and `meta` (RFC 7643 §3.1), which belong to every
//! resource but to no schema.

use super::{AttrType, Attribute, Mutability, Returned, Uniqueness};

const fn read_only(attr: Attribute) -> Attribute {
    attr.mutability(Mutability::ReadOnly)
}

/// `id`, `externalId` and `meta`.
pub(super) static COMMON: &[Attribute] = &[
    read_only(Attribute::string(
        "id",
        "Unique identifier assigned by the service provider.",
    ))
    .case_exact()
    .returned(Returned::Always)
    .uniqueness(Uniqueness::Server),
    Attribute::string(
        "externalId",
        "Identifier assigned by the provisioning client.",
    )
    .case_exact(),
    read_only(Attribute::complex(
        "meta",
        "Resource metadata.",
        &[
            read_only(Attribute::string(
                "resourceType",
                "The name of the resource type.",
            ))
            .case_exact(),
            read_only(Attribute::new(
                "created",
                AttrType::DateTime,
                "When the resource was added.",
            )),
            read_only(Attribute::new(
                "lastModified",
                AttrType::DateTime,
                "When the resource was last updated.",
            )),
            read_only(Attribute::reference(
                "location",
                "The URI of the resource.",
                &["uri"],
            )),
            read_only(Attribute::string("version", "The resource's entity tag.")).case_exact(),
        ],
    )),
];
