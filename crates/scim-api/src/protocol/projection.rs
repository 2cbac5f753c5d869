//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5): which attributes a response
//! carries. `id`, `schemas` and `meta` are always returned.

use scim_protocol::schema::{ResourceKind, Returned};
use scim_protocol::{AttrPath, find_attribute};
use serde_json::{Map, Value};

/// A parsed projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// The resource type, for attributes returned only on request.
    kind: ResourceKind,
    /// Only these (canonical `(top-level key, optional sub-attribute)`), when non-empty.
    include: Vec<(String, Option<String>)>,
    /// Never these.
    exclude: Vec<(String, Option<String>)>,
}

/// Attributes returned whatever the request says.
const ALWAYS: [&str; 3] = ["id", "schemas", "meta"];

impl Projection {
    /// Resolves the names against the resource's schemas; unknown names are ignored, as RFC
    /// 7644 lets a service provider do.
    pub fn new(kind: ResourceKind, attributes: &[String], excluded: &[String]) -> Self {
        let resolve = |names: &[String]| -> Vec<(String, Option<String>)> {
            names
                .iter()
                .filter_map(|name| {
                    let path: AttrPath = name.parse().ok()?;
                    let resolved = find_attribute(kind, &path)?;
                    let key = if resolved.is_extension() {
                        resolved.schema.id.to_owned()
                    } else {
                        resolved.name().to_owned()
                    };
                    let sub = if resolved.is_extension() {
                        Some(resolved.name().to_owned())
                    } else {
                        resolved.sub_name().map(str::to_owned)
                    };
                    Some((key, sub))
                })
                .collect()
        };
        Self {
            kind,
            include: resolve(attributes),
            exclude: resolve(excluded),
        }
    }

    /// Whether the response can carry `key` at all (lets callers skip loading it).
    pub fn wants(&self, key: &str) -> bool {
        if ALWAYS.contains(&key) {
            return true;
        }
        if self
            .exclude
            .iter()
            .any(|(k, sub)| k == key && sub.is_none())
        {
            return false;
        }
        self.include.is_empty() || self.include.iter().any(|(k, _)| k == key)
    }

    /// Applies the projection to a rendered resource.
    pub fn apply(&self, resource: Value) -> Value {
        let Value::Object(map) = resource else {
            return resource;
        };
        let map = self.drop_unrequested(map);
        if self.include.is_empty() && self.exclude.is_empty() {
            // Neither `attributes` nor `excludedAttributes`: everything else stays as it is.
            return Value::Object(map);
        }
        let mut out = Map::new();
        for (key, value) in map {
            if ALWAYS.contains(&key.as_str()) {
                out.insert(key, value);
                continue;
            }
            if !self.include.is_empty() {
                let subs: Vec<&Option<String>> = self
                    .include
                    .iter()
                    .filter(|(k, _)| *k == key)
                    .map(|(_, s)| s)
                    .collect();
                if subs.is_empty() {
                    continue;
                }
                if subs.iter().any(|s| s.is_none()) {
                    out.insert(key, value);
                } else {
                    let wanted: Vec<&str> = subs.iter().filter_map(|s| s.as_deref()).collect();
                    out.insert(key, keep_subs(value, &wanted));
                }
                continue;
            }
            let excluded_subs: Vec<&str> = self
                .exclude
                .iter()
                .filter(|(k, _)| *k == key)
                .filter_map(|(_, s)| s.as_deref())
                .collect();
            if self.exclude.iter().any(|(k, s)| *k == key && s.is_none()) {
                continue;
            }
            if excluded_subs.is_empty() {
                out.insert(key, value);
            } else {
                out.insert(key, drop_subs(value, &excluded_subs));
            }
        }
        Value::Object(out)
    }
}

impl Projection {
    /// Removes the sub-attributes whose schema says `returned: request` (RFC 7643 §7) unless
    /// `attributes` names them, such as `members.display`.
    fn drop_unrequested(&self, mut map: Map<String, Value>) -> Map<String, Value> {
        let core = self.kind.core_schema();
        for attribute in core.attributes {
            let unrequested: Vec<&str> = attribute
                .sub_attributes
                .iter()
                .filter(|sub| sub.returned == Returned::Request)
                .filter(|sub| {
                    !self.include.iter().any(|(key, requested)| {
                        key == attribute.name && requested.as_deref() == Some(sub.name)
                    })
                })
                .map(|sub| sub.name)
                .collect();
            if unrequested.is_empty() {
                continue;
            }
            if let Some(value) = map.remove(attribute.name) {
                map.insert(attribute.name.to_owned(), drop_subs(value, &unrequested));
            }
        }
        map
    }
}

fn keep_subs(value: Value, wanted: &[&str]) -> Value {
    map_objects(value, &|map| {
        map.into_iter()
            .filter(|(k, _)| wanted.iter().any(|w| w.eq_ignore_ascii_case(k)))
            .collect()
    })
}

fn drop_subs(value: Value, unwanted: &[&str]) -> Value {
    map_objects(value, &|map| {
        map.into_iter()
            .filter(|(k, _)| !unwanted.iter().any(|w| w.eq_ignore_ascii_case(k)))
            .collect()
    })
}

/// Applies `f` to an object, or to each object of an array (multi-valued complex attributes).
fn map_objects(value: Value, f: &dyn Fn(Map<String, Value>) -> Map<String, Value>) -> Value {
    match value {
        Value::Object(map) => Value::Object(f(map)),
        Value::Array(items) => {
            Value::Array(items.into_iter().map(|item| map_objects(item, f)).collect())
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn user() -> Value {
        json!({"id": "1", "schemas": ["s"], "meta": {}, "userName": "a", "name": {"givenName": "A", "familyName": "B"},
               "emails": [{"value": "a@x", "type": "work"}], "groups": [{"value": "g"}]})
    }

    #[test]
    fn attributes_keep_only_what_was_asked_plus_always_returned() {
        let p = Projection::new(
            ResourceKind::User,
            &["userName".into(), "name.givenName".into()],
            &[],
        );
        assert_eq!(
            p.apply(user()),
            json!({"id": "1", "schemas": ["s"], "meta": {}, "userName": "a", "name": {"givenName": "A"}})
        );
    }

    #[test]
    fn excluded_attributes_are_dropped_and_not_loaded() {
        let p = Projection::new(
            ResourceKind::User,
            &[],
            &["groups".into(), "emails.type".into()],
        );
        assert!(!p.wants("groups"));
        let out = p.apply(user());
        assert!(out.get("groups").is_none());
        assert_eq!(out["emails"], json!([{"value": "a@x"}]));
        let members = Projection::new(ResourceKind::Group, &[], &["MEMBERS".into()]);
        assert!(!members.wants("members"));
    }

    #[test]
    fn attributes_returned_on_request_appear_only_when_named() {
        let group = json!({"id": "g", "displayName": "G", "members": [{"value": "u", "display": "U", "type": "User"}]});
        let default = Projection::new(ResourceKind::Group, &[], &[]);
        assert_eq!(
            default.apply(group.clone())["members"],
            json!([{"value": "u", "type": "User"}])
        );
        let asked = Projection::new(
            ResourceKind::Group,
            &["members.display".into(), "members.value".into()],
            &[],
        );
        assert_eq!(
            asked.apply(group)["members"],
            json!([{"value": "u", "display": "U"}])
        );
    }
}
