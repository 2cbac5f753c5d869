//! Helpers for the containers PATCH writes into: complex objects, the elements of
//! multi-valued attributes (duplicates, the single `primary`), and new elements seeded from
//! a value filter.

use serde_json::{Map, Value};

use crate::error::PatchError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::json::{find_key, get_ci, set_canonical};
use crate::schema::{Attribute, Mutability};

/// The object stored under `key` in `map` (created when missing or null), renamed to canonical
/// spelling.
pub(super) fn object_slot<'m>(
    map: &'m mut Map<String, Value>,
    key: &str,
) -> Result<&'m mut Map<String, Value>, PatchError> {
    canonicalise_key(map, key);
    let slot = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| PatchError::invalid_value(key, "the stored value is not a JSON object"))
}

/// The array stored under `key` in `map` (created when missing or null; a lone value stored
/// by an older writer becomes a one-element array).
pub(super) fn array_slot<'m>(
    map: &'m mut Map<String, Value>,
    key: &str,
) -> Result<&'m mut Vec<Value>, PatchError> {
    canonicalise_key(map, key);
    let slot = map
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !slot.is_array() {
        let lone = slot.take();
        *slot = Value::Array(if lone.is_null() {
            Vec::new()
        } else {
            vec![lone]
        });
    }
    slot.as_array_mut()
        .ok_or_else(|| PatchError::invalid_value(key, "the stored value is not an array"))
}

fn canonicalise_key(map: &mut Map<String, Value>, key: &str) {
    if let Some(stored) = find_key(map, key).filter(|stored| stored != key)
        && let Some(value) = map.remove(&stored)
    {
        set_canonical(map, key, value);
    }
}

/// Whether `a` and `b` are the same value of multi-valued `attr`, so adding `b` must not
/// add a second copy. Complex values are the same when their `value`s are equal and their
/// `type`s do not differ; other values when equal (strings ignoring case unless caseExact).
pub(super) fn same_element(attr: &Attribute, a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(_), Value::Object(_)) => match (get_ci(a, "value"), get_ci(b, "value")) {
            (Some(va), Some(vb)) => {
                let exact = attr.sub_attribute("value").is_some_and(|s| s.case_exact);
                let types_agree = match (get_ci(a, "type"), get_ci(b, "type")) {
                    (Some(ta), Some(tb)) => same_scalar(ta, tb, false),
                    _ => true,
                };
                same_scalar(va, vb, exact) && types_agree
            }
            _ => a == b,
        },
        _ => same_scalar(a, b, attr.case_exact),
    }
}

fn same_scalar(a: &Value, b: &Value, case_exact: bool) -> bool {
    match (a, b) {
        (Value::String(x), Value::String(y)) if !case_exact => x.to_lowercase() == y.to_lowercase(),
        _ => a == b,
    }
}

/// Drops `null` sub-attributes: in a new element they only mean "unassigned".
pub(super) fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(obj) => {
            Value::Object(obj.into_iter().filter(|(_, v)| !v.is_null()).collect())
        }
        other => other,
    }
}

/// Appends `new_items` to `items`, merging duplicates into the element already there;
/// returns the index of the last element written.
pub(super) fn add_elements(
    attr: &Attribute,
    items: &mut Vec<Value>,
    new_items: Vec<Value>,
) -> Option<usize> {
    let mut last = None;
    for item in new_items {
        let item = without_nulls(item);
        match items.iter().position(|e| same_element(attr, e, &item)) {
            Some(i) => {
                merge_into(attr, &mut items[i], item);
                last = Some(i);
            }
            None => {
                items.push(item);
                last = Some(items.len() - 1);
            }
        }
    }
    last
}

/// Copies the sub-attributes of `src` into the element `target`; immutable sub-attributes
/// keep the value they already have.
pub(super) fn merge_into(attr: &Attribute, target: &mut Value, src: Value) {
    let (Value::Object(target), Value::Object(src)) = (target, src) else {
        return;
    };
    for (key, value) in src {
        let immutable = attr
            .sub_attribute(&key)
            .is_some_and(|sub| sub.mutability == Mutability::Immutable);
        if immutable && find_key(target, &key).is_some() {
            continue;
        }
        match value {
            Value::Null => {
                crate::json::remove_ci(target, &key);
            }
            value => set_canonical(target, &key, value),
        }
    }
}

fn is_primary(value: &Value) -> bool {
    get_ci(value, "primary") == Some(&Value::Bool(true))
}

/// Leaves `primary: true` on at most one element (RFC 7643 §2.4): `preferred` if it is
/// primary, otherwise the last primary element.
pub(super) fn settle_primary(items: &mut [Value], preferred: Option<usize>) {
    let keep = preferred
        .filter(|&i| items.get(i).is_some_and(is_primary))
        .or_else(|| items.iter().rposition(is_primary));
    let Some(keep) = keep else {
        return;
    };
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep
            && is_primary(item)
            && let Value::Object(obj) = item
        {
            set_canonical(obj, "primary", Value::Bool(false));
        }
    }
}

/// The element a filter of `eq` comparisons describes, e.g. `{"type": "work"}` for
/// `type eq "work"`, used when an `add` through a value filter matches nothing.
pub(super) fn seed_from_filter(filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.uri.is_none() && path.sub_attr.is_none() => {
            let value = match value {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::Number(n) => Value::Number(n.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Null => return None,
            };
            let mut seed = Map::new();
            seed.insert(path.attr.clone(), value);
            Some(seed)
        }
        Filter::And(a, b) => {
            let mut seed = seed_from_filter(a)?;
            seed.extend(seed_from_filter(b)?);
            Some(seed)
        }
        _ => None,
    }
}
