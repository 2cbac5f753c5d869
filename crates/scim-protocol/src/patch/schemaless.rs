//! Values no schema describes (custom IdP attributes, unknown extensions): stored as sent,
//! never dropped; and the tidying of extension objects and `schemas` after a PATCH.

use serde_json::{Map, Value};

use super::PatchOpKind;
use super::elements::{array_slot, object_slot};
use crate::error::PatchError;
use crate::json::{find_key, get_canonical_mut, remove_ci, set_canonical};
use crate::schema::ResourceKind;

/// Writes a value the schemas do not describe, as sent: `add` appends new array elements to
/// an existing array, everything else sets the value; null clears it.
pub(super) fn write_unknown(
    map: &mut Map<String, Value>,
    op: PatchOpKind,
    attr: &str,
    sub: Option<&str>,
    value: Value,
) -> Result<(), PatchError> {
    let key = find_key(map, attr).unwrap_or_else(|| attr.to_owned());
    let (target, key) = match sub {
        Some(sub) => {
            let obj = object_slot(map, &key).map_err(|_| {
                PatchError::invalid_value(
                    key.as_str(),
                    format!("it holds a value that is not an object, so it has no \"{sub}\""),
                )
            })?;
            let sub_key = find_key(obj, sub).unwrap_or_else(|| sub.to_owned());
            (obj, sub_key)
        }
        None => (map, key),
    };
    match (op, value) {
        (_, Value::Null) => {
            target.remove(&key);
        }
        (PatchOpKind::Add, Value::Array(new_items))
            if target.get(&key).is_some_and(Value::is_array) =>
        {
            let items = array_slot(target, &key)?;
            for item in new_items {
                // Without a schema there is no caseExact to go by, so only equal JSON is a duplicate.
                if !items.contains(&item) {
                    items.push(item);
                }
            }
        }
        (_, value) => {
            set_canonical(target, &key, value);
        }
    }
    Ok(())
}

/// Removes a value the schemas do not describe; absent is fine.
pub(super) fn remove_unknown(map: &mut Map<String, Value>, attr: &str, sub: Option<&str>) {
    match (sub, get_canonical_mut(map, attr)) {
        (Some(sub), Some(Value::Object(obj))) => {
            remove_ci(obj, sub);
            if obj.is_empty() {
                remove_ci(map, attr);
            }
        }
        (Some(_), _) => {}
        (None, _) => {
            remove_ci(map, attr);
        }
    }
}

/// Drops empty extension objects and keeps `schemas` in step with the extensions present.
pub(super) fn tidy_extensions(map: &mut Map<String, Value>, kind: ResourceKind) {
    let urn_keys: Vec<String> = map.keys().filter(|k| k.contains(':')).cloned().collect();
    let mut listed = Vec::new();
    let mut unlisted: Vec<String> = kind
        .extensions()
        .iter()
        .filter(|ext| find_key(map, ext.id).is_none())
        .map(|ext| ext.id.to_owned())
        .collect();
    for key in urn_keys {
        match map.get(&key) {
            Some(Value::Object(obj)) if !obj.is_empty() => listed.push(key),
            Some(Value::Object(_) | Value::Null) => {
                map.remove(&key);
                unlisted.push(key);
            }
            _ => {}
        }
    }
    let Some(Value::Array(schemas)) = map.get_mut("schemas") else {
        return;
    };
    let has = |schemas: &[Value], urn: &str| {
        schemas
            .iter()
            .any(|s| s.as_str().is_some_and(|s| s.eq_ignore_ascii_case(urn)))
    };
    schemas.retain(|s| {
        !s.as_str()
            .is_some_and(|s| unlisted.iter().any(|u| u.eq_ignore_ascii_case(s)))
    });
    for urn in listed {
        if !has(schemas, &urn) {
            schemas.push(Value::String(urn));
        }
    }
}
