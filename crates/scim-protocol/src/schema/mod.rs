//! RFC 7643 schema definitions: the core User and Group schemas, the Enterprise User extension,
//! the common attributes, attribute lookup and the `/Schemas` JSON rendering.

mod common;
mod enterprise;
mod group;
mod lookup;
mod render;
mod user;

#[cfg(test)]
mod tests;

pub use lookup::{AttrOrigin, ResolvedAttr, find_attribute, find_schema};
pub use render::schema_json;

/// URN of the core User schema (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// URN of the Enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// URN of the core Group schema (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// URN that marks a schema representation served by `/Schemas` (RFC 7643 §7).
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// The data type of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    /// A Unicode string.
    String,
    /// `true` or `false`.
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number.
    Integer,
    /// An `xsd:dateTime` string.
    DateTime,
    /// A URI pointing at a resource.
    Reference,
    /// An object made of sub-attributes.
    Complex,
    /// Base64-encoded bytes.
    Binary,
}

impl AttrType {
    /// The spelling used in schema representations.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Reference => "reference",
            Self::Complex => "complex",
            Self::Binary => "binary",
        }
    }
}

/// Whether and when an attribute may be written (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Set by the service provider only.
    ReadOnly,
    /// Freely written by clients.
    ReadWrite,
    /// Written once (on create or when still unassigned), never changed.
    Immutable,
    /// Written by clients but never returned.
    WriteOnly,
}

impl Mutability {
    /// The spelling used in schema representations.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadOnly => "readOnly",
            Self::ReadWrite => "readWrite",
            Self::Immutable => "immutable",
            Self::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute is included in responses (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Returned {
    /// In every response, whatever `attributes` asks for.
    Always,
    /// Never.
    Never,
    /// Unless excluded through `excludedAttributes`.
    Default,
    /// Only when named in `attributes`.
    Request,
}

impl Returned {
    /// The spelling used in schema representations.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::Never => "never",
            Self::Default => "default",
            Self::Request => "request",
        }
    }
}

/// The scope in which values must be unique (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Uniqueness {
    /// No uniqueness required.
    None,
    /// Unique within the service provider (for us: within the tenant).
    Server,
    /// Globally unique.
    Global,
}

impl Uniqueness {
    /// The spelling used in schema representations.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Server => "server",
            Self::Global => "global",
        }
    }
}

/// One attribute definition with all RFC 7643 §7 characteristics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attribute {
    /// Canonical spelling of the name.
    pub name: &'static str,
    /// Data type.
    pub kind: AttrType,
    /// Whether the value is a JSON array.
    pub multi_valued: bool,
    /// Human-readable description.
    pub description: &'static str,
    /// Whether a resource must carry a value.
    pub required: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Write rules.
    pub mutability: Mutability,
    /// Read rules.
    pub returned: Returned,
    /// Uniqueness scope.
    pub uniqueness: Uniqueness,
    /// Suggested values; advisory, never enforced.
    pub canonical_values: &'static [&'static str],
    /// Resource types a `reference` may point to.
    pub reference_types: &'static [&'static str],
    /// Sub-attributes of a `complex` attribute.
    pub sub_attributes: &'static [Attribute],
}

impl Attribute {
    /// A single-valued, optional, case-insensitive, readWrite attribute of `kind`.
    pub const fn new(name: &'static str, kind: AttrType, description: &'static str) -> Self {
        Self {
            name,
            kind,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    /// Shorthand for a `string` attribute.
    pub const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }

    /// Shorthand for a `boolean` attribute.
    pub const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }

    /// Shorthand for a `reference` attribute pointing at `types`.
    pub const fn reference(
        name: &'static str,
        description: &'static str,
        types: &'static [&'static str],
    ) -> Self {
        let mut attr = Self::new(name, AttrType::Reference, description);
        attr.reference_types = types;
        attr
    }

    /// Shorthand for a `complex` attribute made of `subs`.
    pub const fn complex(
        name: &'static str,
        description: &'static str,
        subs: &'static [Attribute],
    ) -> Self {
        let mut attr = Self::new(name, AttrType::Complex, description);
        attr.sub_attributes = subs;
        attr
    }

    /// Marks the attribute multi-valued.
    pub const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Marks the attribute required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks string comparisons case-sensitive.
    pub const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    /// Sets the mutability.
    pub const fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    /// Sets the `returned` characteristic.
    pub const fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    /// Sets the uniqueness scope.
    pub const fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    /// Sets the canonical values.
    pub const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    /// The sub-attribute called `name`, compared case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.sub_attributes
            .iter()
            .find(|sub| sub.name.eq_ignore_ascii_case(name))
    }
}

/// A schema: a URN plus the attributes it defines (RFC 7643 §7).
#[derive(Debug, PartialEq, Eq)]
pub struct Schema {
    /// The schema URN.
    pub id: &'static str,
    /// Short name, e.g. `User`.
    pub name: &'static str,
    /// Human-readable description.
    pub description: &'static str,
    /// Top-level attributes, in RFC order.
    pub attributes: &'static [Attribute],
}

impl Schema {
    /// The top-level attribute called `name`, compared case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes
            .iter()
            .find(|attr| attr.name.eq_ignore_ascii_case(name))
    }
}

/// The core User schema.
pub fn user_schema() -> &'static Schema {
    &user::USER
}

/// The Enterprise User extension schema.
pub fn enterprise_user_schema() -> &'static Schema {
    &enterprise::ENTERPRISE_USER
}

/// The core Group schema.
pub fn group_schema() -> &'static Schema {
    &group::GROUP
}

/// The attributes every resource carries outside its schemas: `id`, `externalId` and `meta`
/// (RFC 7643 §3.1).
pub fn common_attributes() -> &'static [Attribute] {
    common::COMMON
}

/// Every schema this crate defines, for the `/Schemas` endpoint.
pub fn all_schemas() -> &'static [&'static Schema] {
    static ALL: [&Schema; 3] = [&user::USER, &enterprise::ENTERPRISE_USER, &group::GROUP];
    &ALL
}

/// The resource types we serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `/Users`.
    User,
    /// `/Groups`.
    Group,
}

impl ResourceKind {
    /// The schemas that describe this resource type: the core schema first, then extensions.
    pub fn schemas(self) -> &'static [&'static Schema] {
        static USER_SCHEMAS: [&Schema; 2] = [&user::USER, &enterprise::ENTERPRISE_USER];
        static GROUP_SCHEMAS: [&Schema; 1] = [&group::GROUP];
        match self {
            Self::User => &USER_SCHEMAS,
            Self::Group => &GROUP_SCHEMAS,
        }
    }

    /// The core schema of this resource type.
    pub fn core_schema(self) -> &'static Schema {
        match self {
            Self::User => &user::USER,
            Self::Group => &group::GROUP,
        }
    }

    /// The URN of the core schema.
    pub fn core_schema_urn(self) -> &'static str {
        self.core_schema().id
    }

    /// The extension schemas (everything but the core schema).
    pub fn extensions(self) -> &'static [&'static Schema] {
        self.schemas().get(1..).unwrap_or(&[])
    }

    /// The resource type name used in `meta.resourceType`.
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "User",
            Self::Group => "Group",
        }
    }
}
