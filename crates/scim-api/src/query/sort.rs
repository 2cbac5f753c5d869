//! `sortBy` (RFC 7644 §3.4.2.3), mapped onto a fixed set of column expressions.

use scim_protocol::schema::ResourceKind;
use scim_protocol::{AttrPath, find_attribute};

use crate::error::ScimError;

/// The SQL sort expression for `sort_by`, or `None` for the default (id) order.
pub fn order_by(
    kind: ResourceKind,
    sort_by: Option<&str>,
) -> Result<Option<&'static str>, ScimError> {
    let Some(sort_by) = sort_by else {
        return Ok(None);
    };
    let unsupported = || {
        ScimError::invalid_value(format!(
            "Cannot sort by \"{sort_by}\"; sortable attributes are id, userName, displayName, externalId, \
             name.givenName, name.familyName, meta.created and meta.lastModified."
        ))
    };
    let path: AttrPath = sort_by.parse().map_err(|_| unsupported())?;
    let resolved = find_attribute(kind, &path).ok_or_else(unsupported)?;
    let expr = match (kind, resolved.name(), resolved.sub_name()) {
        (_, "id", None) => return Ok(None),
        (ResourceKind::User, "userName", None) => "u.user_name_key",
        (ResourceKind::User, "displayName", None) => "lower(u.display_name)",
        (ResourceKind::User, "externalId", None) => "u.external_id",
        (ResourceKind::User, "name", Some("givenName")) => "lower(u.given_name)",
        (ResourceKind::User, "name", Some("familyName")) => "lower(u.family_name)",
        (ResourceKind::User, "meta", Some("created")) => "u.created_at",
        (ResourceKind::User, "meta", Some("lastModified")) => "u.updated_at",
        (ResourceKind::Group, "displayName", None) => "g.display_name_key",
        (ResourceKind::Group, "externalId", None) => "g.external_id",
        (ResourceKind::Group, "meta", Some("created")) => "g.created_at",
        (ResourceKind::Group, "meta", Some("lastModified")) => "g.updated_at",
        _ => return Err(unsupported()),
    };
    Ok(Some(expr))
}
