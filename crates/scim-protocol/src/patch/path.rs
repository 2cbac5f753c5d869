//! PATCH paths: `attrPath [ "[" valFilter "]" ] [ "." subAttr ]` (RFC 7644 §3.5.2).

use std::fmt;

use crate::attr_path::AttrPath;
use crate::error::PatchError;
use crate::filter::{Filter, parse_patch_path};

/// A parsed PATCH `path`, e.g. `name.familyName`, `members[value eq "2819c223"]` or
/// `emails[type eq "work"].value`. Names keep the client's spelling; [`super::apply`] resolves
/// them against the schema.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// The attribute, possibly URN-qualified and possibly with a sub-attribute.
    pub attr: AttrPath,
    /// The value filter between brackets; its paths are relative to one element.
    pub filter: Option<Filter>,
    /// The sub-attribute after the brackets (`.value` in `emails[type eq "work"].value`).
    pub sub_attr: Option<String>,
    /// The path exactly as received, for error messages.
    pub raw: String,
}

impl PatchPath {
    /// Parses a path; a malformed one is [`PatchError::InvalidPath`].
    pub fn parse(text: &str) -> Result<Self, PatchError> {
        let (attr, filter, sub_attr) =
            parse_patch_path(text).map_err(|e| PatchError::invalid_path(text, e.message))?;
        if filter.is_some() && attr.sub_attr.is_some() {
            return Err(PatchError::invalid_path(
                text,
                "a value filter must follow a multi-valued attribute, not a sub-attribute",
            ));
        }
        Ok(Self {
            attr,
            filter,
            sub_attr,
            raw: text.to_owned(),
        })
    }

    /// Whether this path points into attribute `name` of schema `urn` (with or without the
    /// URN prefix), compared case-insensitively.
    pub(crate) fn is_in_attribute(&self, urn: &str, name: &str) -> bool {
        self.attr.attr.eq_ignore_ascii_case(name)
            && self
                .attr
                .uri
                .as_deref()
                .is_none_or(|uri| uri.eq_ignore_ascii_case(urn))
    }
}

impl fmt::Display for PatchPath {
    /// The canonical text form of the path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}
