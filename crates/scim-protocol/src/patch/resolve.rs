//! Resolution of PATCH paths to what they point at: a known attribute, a whole extension,
//! the resource itself, or data no schema describes.

use serde_json::{Map, Value};

use super::path::PatchPath;
use crate::attr_path::AttrPath;
use crate::error::PatchError;
use crate::json::find_key;
use crate::schema::{ResolvedAttr, ResourceKind, Schema, find_attribute, find_schema};

/// Where a path points.
pub(super) enum Target {
    /// `schemas`, maintained by the server.
    Schemas,
    /// The core schema URN on its own: the resource itself.
    Resource,
    /// A known extension URN on its own: the whole extension object.
    Extension(&'static Schema),
    /// An attribute the schemas define.
    Known(ResolvedAttr),
    /// A top-level attribute no schema defines but the document already holds (e.g. an Okta
    /// custom attribute stored by an earlier path-less write), handled without checks.
    Custom { attr: String, sub: Option<String> },
    /// An attribute under an extension URN we do not know, kept without checks.
    Unknown {
        container: String,
        attr: String,
        sub: Option<String>,
    },
}

/// Resolves a path against the schemas of this resource type (and, for attributes no
/// schema defines, against what `map` already holds).
pub(super) fn resolve(
    kind: ResourceKind,
    map: &Map<String, Value>,
    path: &PatchPath,
) -> Result<Target, PatchError> {
    let attr = &path.attr;
    let plain = attr.sub_attr.is_none() && path.filter.is_none() && path.sub_attr.is_none();
    if attr.uri.is_none() && plain && attr.attr.eq_ignore_ascii_case("schemas") {
        return Ok(Target::Schemas);
    }
    if let Some(uri) = &attr.uri {
        let whole = format!("{uri}:{}", attr.attr);
        if let Some(schema) = kind
            .schemas()
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(&whole))
        {
            if !plain {
                return Err(PatchError::invalid_path(
                    &path.raw,
                    "a schema URN has no sub-attributes",
                ));
            }
            if std::ptr::eq(*schema, kind.core_schema()) {
                return Ok(Target::Resource);
            }
            return Ok(Target::Extension(schema));
        }
        if find_schema(uri).is_none() {
            if path.filter.is_some() || path.sub_attr.is_some() {
                return Err(PatchError::invalid_path(
                    &path.raw,
                    format!("value filters need a known schema, and \"{uri}\" is not one"),
                ));
            }
            return Ok(Target::Unknown {
                container: uri.clone(),
                attr: attr.attr.clone(),
                sub: attr.sub_attr.clone(),
            });
        }
    }
    let Some(resolved) = find_attribute(kind, attr) else {
        let top = AttrPath::new(attr.attr.as_str());
        let custom = attr.uri.is_none()
            && path.filter.is_none()
            && path.sub_attr.is_none()
            && find_key(map, &attr.attr).is_some()
            && find_attribute(kind, &top).is_none();
        if custom {
            return Ok(Target::Custom {
                attr: attr.attr.clone(),
                sub: attr.sub_attr.clone(),
            });
        }
        return Err(PatchError::invalid_path(&path.raw, why_unknown(kind, path)));
    };
    if path.filter.is_some() && !resolved.attribute.multi_valued {
        return Err(PatchError::invalid_path(
            &path.raw,
            format!(
                "\"{}\" is single-valued, so it cannot take a value filter",
                resolved.canonical_path()
            ),
        ));
    }
    if let Some(sub) = &path.sub_attr
        && resolved.attribute.sub_attribute(sub).is_none()
    {
        return Err(PatchError::invalid_path(
            &path.raw,
            format!("\"{}\" has no sub-attribute \"{sub}\"", resolved.name()),
        ));
    }
    Ok(Target::Known(resolved))
}

fn why_unknown(kind: ResourceKind, path: &PatchPath) -> String {
    let attr = &path.attr;
    if let Some(uri) = &attr.uri
        && !kind
            .schemas()
            .iter()
            .any(|s| s.id.eq_ignore_ascii_case(uri))
    {
        return format!("schema \"{uri}\" does not apply to a {}", kind.name());
    }
    let top = AttrPath {
        sub_attr: None,
        ..attr.clone()
    };
    match (find_attribute(kind, &top), &attr.sub_attr) {
        (Some(found), Some(sub)) => {
            format!("\"{}\" has no sub-attribute \"{sub}\"", found.name())
        }
        _ => format!("a {} has no attribute \"{}\"", kind.name(), attr.attr),
    }
}
