//! The core User schema, `urn:ietf:params:scim:schemas:core:2.0:User` (RFC 7643 §4.1, §8.7.1).

use super::{AttrType, Attribute, Mutability, Returned, Schema, USER_SCHEMA, Uniqueness};

const fn s(name: &'static str, description: &'static str) -> Attribute {
    Attribute::string(name, description)
}

/// `value` of a multi-valued attribute.
const fn value(description: &'static str) -> Attribute {
    s("value", description)
}

const fn display() -> Attribute {
    s(
        "display",
        "A human-readable name, primarily used for display purposes.",
    )
}

const fn kind(canonical: &'static [&'static str]) -> Attribute {
    s(
        "type",
        "A label indicating the value's function, e.g. 'work' or 'home'.",
    )
    .canonical(canonical)
}

const fn primary() -> Attribute {
    Attribute::boolean(
        "primary",
        "Whether this is the preferred value; 'true' appears at most once.",
    )
}

const ADDRESS_TYPES: &[&str] = &["work", "home", "other"];

/// The core User schema.
pub(super) static USER: Schema = Schema {
    id: USER_SCHEMA,
    name: "User",
    description: "User Account",
    attributes: &[
        s(
            "userName",
            "Unique identifier for the User, typically used to sign in. REQUIRED.",
        )
        .required()
        .uniqueness(Uniqueness::Server),
        Attribute::complex(
            "name",
            "The components of the user's real name.",
            &[
                s("formatted", "The full name, formatted for display."),
                s(
                    "familyName",
                    "The family name, or last name in most Western languages.",
                ),
                s(
                    "givenName",
                    "The given name, or first name in most Western languages.",
                ),
                s("middleName", "The middle name(s)."),
                s("honorificPrefix", "The honorific prefix(es), e.g. 'Ms.'."),
                s("honorificSuffix", "The honorific suffix(es), e.g. 'III'."),
            ],
        ),
        s(
            "displayName",
            "The name of the User, suitable for display to end-users.",
        ),
        s(
            "nickName",
            "The casual way to address the user, e.g. 'Bob'.",
        ),
        Attribute::reference(
            "profileUrl",
            "A fully qualified URL of the User's online profile.",
            &["external"],
        ),
        s("title", "The user's title, such as 'Vice President'."),
        s(
            "userType",
            "The relationship between the organization and the user, e.g. 'Employee'.",
        ),
        s(
            "preferredLanguage",
            "The User's preferred written or spoken language.",
        ),
        s(
            "locale",
            "The User's default location for localisation, e.g. 'en-US'.",
        ),
        s(
            "timezone",
            "The User's time zone in IANA format, e.g. 'America/Los_Angeles'.",
        ),
        Attribute::boolean("active", "The User's administrative status."),
        s(
            "password",
            "The User's cleartext password, used to set or reset it.",
        )
        .mutability(Mutability::WriteOnly)
        .returned(Returned::Never),
        Attribute::complex(
            "emails",
            "Email addresses for the User.",
            &[
                value("An email address."),
                display(),
                kind(&["work", "home", "other"]),
                primary(),
            ],
        )
        .multi(),
        Attribute::complex(
            "phoneNumbers",
            "Phone numbers for the User.",
            &[
                value("A phone number, ideally in RFC 3966 form."),
                display(),
                kind(&["work", "home", "mobile", "fax", "pager", "other"]),
                primary(),
            ],
        )
        .multi(),
        Attribute::complex(
            "ims",
            "Instant messaging addresses for the User.",
            &[
                value("An instant messaging address."),
                display(),
                kind(&["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
                primary(),
            ],
        )
        .multi(),
        Attribute::complex(
            "photos",
            "URLs of photos of the User.",
            &[
                Attribute::reference("value", "URL of a photo of the User.", &["external"]),
                display(),
                kind(&["photo", "thumbnail"]),
                primary(),
            ],
        )
        .multi(),
        // RFC 7643 §8.7.1 omits `primary` here, but §4.1.2 lists it for addresses too.
        Attribute::complex(
            "addresses",
            "Physical mailing addresses for the User.",
            &[
                s(
                    "formatted",
                    "The full mailing address, formatted for display.",
                ),
                s("streetAddress", "The full street address component."),
                s("locality", "The city or locality component."),
                s("region", "The state or region component."),
                s("postalCode", "The zip code or postal code component."),
                s("country", "The country name component."),
                kind(ADDRESS_TYPES),
                primary(),
            ],
        )
        .multi(),
        Attribute::complex(
            "groups",
            "The groups the user belongs to, directly or indirectly.",
            &[
                value("The id of the Group.").mutability(Mutability::ReadOnly),
                Attribute::reference("$ref", "The URI of the Group.", &["User", "Group"])
                    .mutability(Mutability::ReadOnly),
                display().mutability(Mutability::ReadOnly),
                kind(&["direct", "indirect"]).mutability(Mutability::ReadOnly),
            ],
        )
        .multi()
        .mutability(Mutability::ReadOnly),
        Attribute::complex(
            "entitlements",
            "Entitlements of the User: things the User has.",
            &[
                value("The value of an entitlement."),
                display(),
                kind(&[]),
                primary(),
            ],
        )
        .multi(),
        Attribute::complex(
            "roles",
            "Roles of the User, e.g. 'Student' or 'Faculty'.",
            &[
                value("The value of a role."),
                display(),
                kind(&[]),
                primary(),
            ],
        )
        .multi(),
        Attribute::complex(
            "x509Certificates",
            "Certificates issued to the User.",
            &[
                Attribute::new(
                    "value",
                    AttrType::Binary,
                    "A DER-encoded X.509 certificate.",
                ),
                display(),
                kind(&[]),
                primary(),
            ],
        )
        .multi(),
    ],
};
