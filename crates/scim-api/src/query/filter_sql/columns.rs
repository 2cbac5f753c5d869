//! The fixed SQL pieces filters are built from: the columns that mirror attributes, jsonb
//! element access, membership expressions, and the `invalidFilter` errors.

use scim_protocol::schema::ResourceKind;
use scim_protocol::{AttrPath, AttrType};

use super::Target;
use crate::error::ScimError;

/// The jsonb of one array element's sub-attribute, or the element itself for simple arrays.
/// Sub-attribute names come from the schema (canonical, `[A-Za-z$]` only), never from input.
pub(super) fn element_value(alias: &str, sub: Option<&str>) -> String {
    match sub {
        Some(name) => format!("({alias} -> '{name}')"),
        None => alias.to_owned(),
    }
}

/// The elements of a jsonb array as a set; in lax mode a lone value counts as one element and a
/// missing one as none, so no stored shape can make the query fail.
pub(super) fn elements(json: &str) -> String {
    format!("jsonb_path_query({json}, 'lax $[*]')")
}

/// The document keys of a resolved path: extension attributes live under their schema URN.
pub(super) fn document_keys(resolved: &scim_protocol::ResolvedAttr) -> Vec<String> {
    let mut keys = Vec::with_capacity(3);
    if resolved.is_extension() {
        keys.push(resolved.schema.id.to_owned());
    }
    keys.push(resolved.name().to_owned());
    if let Some(sub) = resolved.sub_name() {
        keys.push(sub.to_owned());
    }
    keys
}

/// Columns that mirror attributes, so filters on them use indexes and typed comparisons.
pub(super) fn column_for(kind: ResourceKind, name: &str, sub: Option<&str>) -> Option<Target> {
    let column = |expr, kind, case_exact| {
        Some(Target::Column {
            expr,
            kind,
            case_exact,
        })
    };
    match (kind, name, sub) {
        (ResourceKind::User, "id", None) => column("u.id", AttrType::String, true),
        (ResourceKind::User, "userName", None) => column("u.user_name", AttrType::String, false),
        (ResourceKind::User, "externalId", None) => column("u.external_id", AttrType::String, true),
        (ResourceKind::User, "active", None) => column("u.active", AttrType::Boolean, true),
        (ResourceKind::User, "displayName", None) => {
            column("u.display_name", AttrType::String, false)
        }
        (ResourceKind::User, "name", Some("givenName")) => {
            column("u.given_name", AttrType::String, false)
        }
        (ResourceKind::User, "name", Some("familyName")) => {
            column("u.family_name", AttrType::String, false)
        }
        (ResourceKind::User, "meta", Some("created")) => {
            column("u.created_at", AttrType::DateTime, true)
        }
        (ResourceKind::User, "meta", Some("lastModified")) => {
            column("u.updated_at", AttrType::DateTime, true)
        }
        (ResourceKind::Group, "id", None) => column("g.id", AttrType::String, true),
        (ResourceKind::Group, "displayName", None) => {
            column("g.display_name", AttrType::String, false)
        }
        (ResourceKind::Group, "externalId", None) => {
            column("g.external_id", AttrType::String, true)
        }
        (ResourceKind::Group, "meta", Some("created")) => {
            column("g.created_at", AttrType::DateTime, true)
        }
        (ResourceKind::Group, "meta", Some("lastModified")) => {
            column("g.updated_at", AttrType::DateTime, true)
        }
        _ => None,
    }
}

/// The membership sub-attributes that can be filtered on.
pub(super) fn membership_sub(name: &str) -> Result<&'static str, ScimError> {
    ["value", "display"]
        .into_iter()
        .find(|sub| sub.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            invalid(format!(
                "members and groups can be filtered on value or display, not \"{name}\""
            ))
        })
}

/// The SQL for a membership sub-attribute: the other side's id or its name.
pub(super) fn membership_expr(kind: ResourceKind, sub: &str) -> (String, AttrType) {
    match (kind, sub) {
        (ResourceKind::User, "value") => ("m.group_id".into(), AttrType::String),
        (ResourceKind::Group, "value") => ("m.user_id".into(), AttrType::String),
        (ResourceKind::User, _) => ("o.display_name".into(), AttrType::String),
        (ResourceKind::Group, _) => (
            "coalesce(o.display_name, o.user_name)".into(),
            AttrType::String,
        ),
    }
}

pub(super) fn unknown(path: &AttrPath) -> ScimError {
    invalid(format!(
        "\"{path}\" is not an attribute that can be filtered on"
    ))
}

pub(super) fn invalid(detail: String) -> ScimError {
    ScimError::invalid_filter(detail)
}
