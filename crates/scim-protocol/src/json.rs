//! Case-insensitive access to JSON object keys: SCIM attribute names are case-insensitive
//! (RFC 7643 §2.1), while `serde_json` maps are not.

use serde_json::{Map, Value};

/// The value under `key`, matched case-insensitively; an exact match wins.
pub(crate) fn get_ci<'v>(value: &'v Value, key: &str) -> Option<&'v Value> {
    get_map_ci(value.as_object()?, key)
}

/// [`get_ci`] on a map.
pub(crate) fn get_map_ci<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The key actually stored in `map` for `key`, matched case-insensitively.
pub(crate) fn find_key(map: &Map<String, Value>, key: &str) -> Option<String> {
    if map.contains_key(key) {
        return Some(key.to_owned());
    }
    map.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

/// Removes every spelling of `key` and returns the last value removed.
pub(crate) fn remove_ci(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let mut removed = None;
    while let Some(stored) = find_key(map, key) {
        removed = map.remove(&stored);
    }
    removed
}

/// Stores `value` under the canonical spelling `key`, dropping other spellings of it.
pub(crate) fn set_canonical(map: &mut Map<String, Value>, key: &str, value: Value) {
    remove_ci(map, key);
    map.insert(key.to_owned(), value);
}

/// A mutable handle on the value under `key`, renamed to canonical spelling if it was stored
/// in another case.
pub(crate) fn get_canonical_mut<'m>(
    map: &'m mut Map<String, Value>,
    key: &str,
) -> Option<&'m mut Value> {
    let stored = find_key(map, key)?;
    if stored != key {
        let value = remove_ci(map, key)?;
        map.insert(key.to_owned(), value);
    }
    map.get_mut(key)
}
