//! Resolution of attribute paths against the schemas of a resource type, giving back canonical
//! spelling and the attribute definition.

use super::{Attribute, ResourceKind, Schema, all_schemas, common_attributes};
use crate::attr_path::AttrPath;

/// Where a resolved attribute is defined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrOrigin {
    /// `id`, `externalId`, `meta`: top-level, in no schema.
    Common,
    /// The resource type's core schema: top-level keys of the document.
    Core,
    /// An extension schema: stored under the extension's URN key.
    Extension,
}

/// A path resolved against the schemas of one resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAttr {
    /// The schema the attribute belongs to (the core schema for common attributes).
    pub schema: &'static Schema,
    /// Whether the attribute is common, core or from an extension.
    pub origin: AttrOrigin,
    /// The top-level attribute.
    pub attribute: &'static Attribute,
    /// The sub-attribute, when the path named one.
    pub sub_attribute: Option<&'static Attribute>,
}

impl ResolvedAttr {
    /// The definition of what the path points at: the sub-attribute if any, else the attribute.
    pub fn definition(&self) -> &'static Attribute {
        self.sub_attribute.unwrap_or(self.attribute)
    }

    /// Canonical spelling of the top-level attribute name.
    pub fn name(&self) -> &'static str {
        self.attribute.name
    }

    /// Canonical spelling of the sub-attribute name.
    pub fn sub_name(&self) -> Option<&'static str> {
        self.sub_attribute.map(|sub| sub.name)
    }

    /// Whether the value lives under an extension URN key rather than at the top level.
    pub fn is_extension(&self) -> bool {
        self.origin == AttrOrigin::Extension
    }

    /// The canonical path; URN-qualified only for extension attributes.
    pub fn attr_path(&self) -> AttrPath {
        AttrPath {
            uri: self.is_extension().then(|| self.schema.id.to_owned()),
            attr: self.attribute.name.to_owned(),
            sub_attr: self.sub_name().map(str::to_owned),
        }
    }

    /// The canonical path as text, e.g. `name.givenName` or
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
    pub fn canonical_path(&self) -> String {
        self.attr_path().to_string()
    }

    /// Whether string comparisons on this path are case-sensitive.
    pub fn case_exact(&self) -> bool {
        self.definition().case_exact
    }
}

/// Finds any schema this crate knows by URN, case-insensitively.
pub fn find_schema(urn: &str) -> Option<&'static Schema> {
    all_schemas()
        .iter()
        .copied()
        .find(|schema| schema.id.eq_ignore_ascii_case(urn))
}

/// Resolves `path` against the schemas of `kind`.
///
/// Names compare case-insensitively. A URN prefix must name one of `kind`'s schemas. Without a
/// prefix the common attributes come first, then the core schema, then (leniently, since some
/// clients leave the prefix off) the extensions. Returns `None` for unknown attributes and for
/// sub-attributes that the attribute does not define.
pub fn find_attribute(kind: ResourceKind, path: &AttrPath) -> Option<ResolvedAttr> {
    let core = kind.core_schema();
    let common = || {
        common_attributes()
            .iter()
            .find(|attr| attr.name.eq_ignore_ascii_case(&path.attr))
            .map(|attr| (core, AttrOrigin::Common, attr))
    };
    let in_core = || {
        core.attribute(&path.attr)
            .map(|a| (core, AttrOrigin::Core, a))
    };
    let in_extension = |schema: &'static Schema| {
        schema
            .attribute(&path.attr)
            .map(|a| (schema, AttrOrigin::Extension, a))
    };
    let (schema, origin, attribute) = match &path.uri {
        Some(uri) => {
            let schema = kind
                .schemas()
                .iter()
                .copied()
                .find(|schema| schema.id.eq_ignore_ascii_case(uri))?;
            if std::ptr::eq(schema, core) {
                common().or_else(in_core)?
            } else {
                in_extension(schema)?
            }
        }
        None => common()
            .or_else(in_core)
            .or_else(|| kind.extensions().iter().find_map(|s| in_extension(s)))?,
    };
    let sub_attribute = match &path.sub_attr {
        Some(sub) => Some(attribute.sub_attribute(sub)?),
        None => None,
    };
    Some(ResolvedAttr {
        schema,
        origin,
        attribute,
        sub_attribute,
    })
}
