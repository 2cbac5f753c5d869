//! Writing and removing the attributes the schemas define: type checks, mutability, required
//! attributes, complex merges and multi-valued elements (value filters are in `filtered`).

use serde_json::{Map, Value};

use super::PatchOpKind;
use super::elements::{
    add_elements, array_slot, object_slot, same_element, settle_primary, without_nulls,
};
use super::filtered::Filtered;
use super::path::PatchPath;
use super::value::{coerce, is_unassigned};
use crate::attr_path::AttrPath;
use crate::error::PatchError;
use crate::json::{get_canonical_mut, get_map_ci, remove_ci, set_canonical};
use crate::schema::{AttrOrigin, AttrType, Attribute, Mutability, ResolvedAttr};

/// `add` or `replace` of `value` at a resolved path.
pub(super) fn write_known(
    map: &mut Map<String, Value>,
    op: PatchOpKind,
    resolved: &ResolvedAttr,
    path: &PatchPath,
    value: Value,
) -> Result<(), PatchError> {
    let sub_after = sub_after(resolved, path);
    let name = display_name(resolved, sub_after);
    if is_read_only(resolved, sub_after) {
        // Okta's group rename repeats the group's own id; that changes nothing.
        let same_id = resolved.origin == AttrOrigin::Common
            && resolved.name() == "id"
            && resolved.sub_attribute.is_none()
            && get_map_ci(map, "id") == Some(&value);
        if same_id {
            return Ok(());
        }
        return Err(PatchError::mutability(name, "it is readOnly"));
    }
    let container = if resolved.is_extension() {
        object_slot(map, resolved.schema.id)?
    } else {
        map
    };
    match (&path.filter, resolved.sub_attribute) {
        (Some(filter), _) => {
            let target = Filtered {
                attr: resolved.attribute,
                filter,
                sub: sub_after,
                raw: &path.raw,
                name: &name,
            };
            target.write(container, op, value)
        }
        (None, Some(sub)) => write_sub(container, resolved.attribute, sub, value, &name),
        (None, None) => write_whole(container, resolved.attribute, op, value, &name),
    }
}

/// `remove` at a resolved path; `value` optionally lists the elements to remove.
pub(super) fn remove_known(
    map: &mut Map<String, Value>,
    resolved: &ResolvedAttr,
    path: &PatchPath,
    value: Option<&Value>,
) -> Result<(), PatchError> {
    let sub_after = sub_after(resolved, path);
    let name = display_name(resolved, sub_after);
    if is_read_only(resolved, sub_after) {
        return Err(PatchError::mutability(name, "it is readOnly"));
    }
    let sub = sub_after.or(resolved.sub_attribute);
    if sub.is_some_and(|s| s.mutability == Mutability::Immutable) {
        return Err(PatchError::mutability(name, "it is immutable"));
    }
    let attr = resolved.attribute;
    if path.filter.is_none() && resolved.sub_attribute.is_none() && attr.required {
        return Err(PatchError::invalid_value(
            name,
            "it is required, so it cannot be removed",
        ));
    }
    let container = if resolved.is_extension() {
        match get_canonical_mut(map, resolved.schema.id) {
            Some(Value::Object(obj)) => obj,
            _ => return Ok(()),
        }
    } else {
        map
    };
    if let Some(filter) = &path.filter {
        let target = Filtered {
            attr,
            filter,
            sub: sub_after,
            raw: &path.raw,
            name: &name,
        };
        return target.remove(container);
    }
    match (
        get_canonical_mut(container, attr.name),
        resolved.sub_attribute,
    ) {
        (Some(Value::Object(obj)), Some(sub)) => {
            remove_ci(obj, sub.name);
        }
        (Some(Value::Array(items)), Some(sub)) => {
            for item in items.iter_mut().filter_map(Value::as_object_mut) {
                remove_ci(item, sub.name);
            }
        }
        // Entra removes group members with `path: "members"` and the members as the value.
        (Some(Value::Array(items)), None) if value.is_some_and(|v| !is_unassigned(v)) => {
            let listed = coerce(attr, &name, value.cloned().unwrap_or_default())?;
            let listed = listed.as_array().map(Vec::as_slice).unwrap_or_default();
            items.retain(|item| !listed.iter().any(|l| same_element(attr, item, l)));
        }
        (_, None) => {
            remove_ci(container, attr.name);
        }
        (None | Some(_), Some(_)) => {}
    }
    drop_if_empty(container, attr.name);
    Ok(())
}

fn sub_after(resolved: &ResolvedAttr, path: &PatchPath) -> Option<&'static Attribute> {
    path.sub_attr
        .as_deref()
        .and_then(|sub| resolved.attribute.sub_attribute(sub))
}

/// The canonical path named in error messages, e.g. `emails.value`.
fn display_name(resolved: &ResolvedAttr, sub_after: Option<&Attribute>) -> String {
    let mut path: AttrPath = resolved.attr_path();
    if let Some(sub) = sub_after {
        path.sub_attr = Some(sub.name.to_owned());
    }
    path.to_string()
}

fn is_read_only(resolved: &ResolvedAttr, sub_after: Option<&Attribute>) -> bool {
    [Some(resolved.attribute), resolved.sub_attribute, sub_after]
        .into_iter()
        .flatten()
        .any(|a| a.mutability == Mutability::ReadOnly)
}

/// Immutable attributes may be set while unassigned but never changed (RFC 7644 §3.5.2).
fn check_immutable(
    attr: &Attribute,
    existing: Option<&Value>,
    new: &Value,
    name: &str,
) -> Result<(), PatchError> {
    let changes = existing.is_some_and(|old| !old.is_null() && old != new);
    if attr.mutability == Mutability::Immutable && changes {
        return Err(PatchError::mutability(
            name,
            "it is immutable and already has a value",
        ));
    }
    Ok(())
}

/// Unassigns `key` when what is left under it is `[]` or `{}`.
pub(super) fn drop_if_empty(container: &mut Map<String, Value>, key: &str) {
    let empty = match get_map_ci(container, key) {
        Some(Value::Array(items)) => items.is_empty(),
        Some(Value::Object(obj)) => obj.is_empty(),
        _ => false,
    };
    if empty {
        remove_ci(container, key);
    }
}

/// A whole attribute: `userName`, `name`, `emails`, …
fn write_whole(
    container: &mut Map<String, Value>,
    attr: &Attribute,
    op: PatchOpKind,
    value: Value,
    name: &str,
) -> Result<(), PatchError> {
    let value = coerce(attr, name, value)?;
    if is_unassigned(&value) {
        // RFC 7643 §2.5: null and [] unassign; adding nothing changes nothing.
        if op == PatchOpKind::Replace {
            if attr.required {
                return Err(PatchError::invalid_value(
                    name,
                    "it is required, so it cannot be cleared",
                ));
            }
            remove_ci(container, attr.name);
        }
        return Ok(());
    }
    match value {
        Value::Array(new_items) if op == PatchOpKind::Add => {
            let items = array_slot(container, attr.name)?;
            let last = add_elements(attr, items, new_items);
            settle_primary(items, last);
        }
        Value::Array(new_items) => {
            let mut items: Vec<Value> = new_items.into_iter().map(without_nulls).collect();
            settle_primary(&mut items, None);
            set_canonical(container, attr.name, Value::Array(items));
        }
        // RFC 7644 §3.5.2.1/§3.5.2.3: sub-attributes not mentioned are left unchanged.
        Value::Object(new) if attr.kind == AttrType::Complex => {
            let obj = object_slot(container, attr.name)?;
            for (key, sub_value) in new {
                if sub_value.is_null() {
                    remove_ci(obj, &key);
                } else {
                    set_canonical(obj, &key, sub_value);
                }
            }
            drop_if_empty(container, attr.name);
        }
        value => {
            check_immutable(attr, container.get(attr.name), &value, name)?;
            set_canonical(container, attr.name, value);
        }
    }
    Ok(())
}

/// `name.givenName`, or `emails.type` without a filter (applies to every element).
fn write_sub(
    container: &mut Map<String, Value>,
    attr: &Attribute,
    sub: &Attribute,
    value: Value,
    name: &str,
) -> Result<(), PatchError> {
    let value = coerce(sub, name, value)?;
    if attr.multi_valued {
        let items = array_slot(container, attr.name)?;
        if items.is_empty() && !value.is_null() {
            items.push(Value::Object(Map::new()));
        }
        for obj in items.iter_mut().filter_map(Value::as_object_mut) {
            set_sub(obj, sub, &value, name)?;
        }
        let last = items.len().checked_sub(1);
        settle_primary(items, last);
    } else if value.is_null() {
        if let Some(Value::Object(obj)) = get_canonical_mut(container, attr.name) {
            remove_ci(obj, sub.name);
        }
    } else {
        set_sub(object_slot(container, attr.name)?, sub, &value, name)?;
    }
    drop_if_empty(container, attr.name);
    Ok(())
}

pub(super) fn set_sub(
    obj: &mut Map<String, Value>,
    sub: &Attribute,
    value: &Value,
    name: &str,
) -> Result<(), PatchError> {
    check_immutable(sub, obj.get(sub.name), value, name)?;
    if value.is_null() {
        remove_ci(obj, sub.name);
    } else {
        set_canonical(obj, sub.name, value.clone());
    }
    Ok(())
}
