//! What a recorded request did ([`operation`]) and the name it gave its resource ([`subject`]),
//! read from its method, path and (redacted) body, for the Activity log's Operation filter and
//! search. Both are facts about the request as sent, decided before its answer is known.

use scim_protocol::{CompValue, CompareOp, Filter, parse_filter};
use serde_json::Value;
use tenancy::stored::EventOperation;

/// The operation of a request to `path` (below the tenant base) about `resource_type`.
pub fn operation(
    method: &str,
    resource_type: Option<&str>,
    path: &str,
    payload: Option<&Value>,
) -> EventOperation {
    let kind = match resource_type {
        Some(kind @ ("User" | "Group")) => kind,
        _ => return EventOperation::Discovery,
    };
    let bare = path.split('?').next().unwrap_or_default();
    match method {
        "GET" => EventOperation::Lookup,
        "POST" if bare.ends_with("/.search") => EventOperation::Lookup,
        "POST" => EventOperation::Create,
        "DELETE" => EventOperation::Delete,
        "PATCH" if kind == "Group" => {
            if patch_touches_members(payload) {
                EventOperation::Membership
            } else {
                EventOperation::Update
            }
        }
        "PATCH" => match patched_active(payload) {
            Some(false) => EventOperation::Deactivate,
            Some(true) => EventOperation::Reactivate,
            None => EventOperation::Update,
        },
        "PUT" if kind == "User" => match payload.and_then(|p| p.get("active")).and_then(truth) {
            Some(false) => EventOperation::Deactivate,
            _ => EventOperation::Update,
        },
        _ => EventOperation::Update,
    }
}

/// The userName (users) or displayName (groups) the request named: in its body, or as the
/// value of an `eq` filter in its query or `.search` body.
pub fn subject(resource_type: Option<&str>, path: &str, payload: Option<&Value>) -> Option<String> {
    let attribute = match resource_type? {
        "User" => "userName",
        "Group" => "displayName",
        _ => return None,
    };
    let named = payload
        .and_then(|p| p.get(attribute))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| {
            let filter = payload
                .and_then(|p| p.get("filter"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| query_filter(path))?;
            eq_value(&parse_filter(&filter).ok()?, attribute)
        })?;
    let named = named.trim();
    (!named.is_empty()).then(|| named.chars().take(200).collect())
}

/// The `filter` parameter of a path's query string, decoded.
fn query_filter(path: &str) -> Option<String> {
    let (_, query) = path.split_once('?')?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("filter"))
        .map(|(_, value)| value)
}

/// The string `attribute eq "…"` compares against, anywhere in the filter's conjunctions.
fn eq_value(filter: &Filter, attribute: &str) -> Option<String> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(value),
        } if path.sub_attr.is_none() && path.attr.eq_ignore_ascii_case(attribute) => {
            Some(value.clone())
        }
        Filter::And(left, right) => {
            eq_value(left, attribute).or_else(|| eq_value(right, attribute))
        }
        _ => None,
    }
}

/// A boolean as identity providers send it (`false`, or Entra's `"False"`).
fn truth(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(text) if text.eq_ignore_ascii_case("true") => Some(true),
        Value::String(text) if text.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

fn operations(payload: Option<&Value>) -> impl Iterator<Item = &Value> {
    payload
        .and_then(|p| p.get("Operations"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn op_path(op: &Value) -> Option<&str> {
    op.get("path").and_then(Value::as_str)
}

/// The `active` a PATCH sets, by path (`"path": "active"`) or in a path-less value.
fn patched_active(payload: Option<&Value>) -> Option<bool> {
    operations(payload).find_map(|op| match op_path(op) {
        Some(path) if path.eq_ignore_ascii_case("active") => op.get("value").and_then(truth),
        Some(_) => None,
        None => op.get("value")?.get("active").and_then(truth),
    })
}

/// Whether a group PATCH adds, removes or replaces members.
fn patch_touches_members(payload: Option<&Value>) -> bool {
    operations(payload).any(|op| match op_path(op) {
        Some(path) => path
            .get(..7)
            .is_some_and(|head| head.eq_ignore_ascii_case("members")),
        None => op.get("value").and_then(|v| v.get("members")).is_some(),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn writes_are_told_apart_by_what_they_change() {
        let deactivate = json!({"Operations": [{"op": "replace", "value": {"active": false}}]});
        let entra = json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let reactivate =
            json!({"Operations": [{"op": "replace", "path": "active", "value": true}]});
        let rename =
            json!({"Operations": [{"op": "replace", "path": "displayName", "value": "x"}]});
        let members =
            json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "u"}]}]});
        let remove = json!({"Operations": [{"op": "remove", "path": "members[value eq \"u\"]"}]});
        let user = Some("User");
        let group = Some("Group");
        assert_eq!(
            operation("PATCH", user, "/Users/a", Some(&deactivate)),
            EventOperation::Deactivate
        );
        assert_eq!(
            operation("PATCH", user, "/Users/a", Some(&entra)),
            EventOperation::Deactivate
        );
        assert_eq!(
            operation("PATCH", user, "/Users/a", Some(&reactivate)),
            EventOperation::Reactivate
        );
        assert_eq!(
            operation("PATCH", user, "/Users/a", Some(&rename)),
            EventOperation::Update
        );
        assert_eq!(
            operation("PATCH", group, "/Groups/g", Some(&members)),
            EventOperation::Membership
        );
        assert_eq!(
            operation("PATCH", group, "/Groups/g", Some(&remove)),
            EventOperation::Membership
        );
        assert_eq!(
            operation("PATCH", group, "/Groups/g", Some(&rename)),
            EventOperation::Update
        );
        assert_eq!(
            operation(
                "PUT",
                user,
                "/Users/a",
                Some(&json!({"userName": "a", "active": false}))
            ),
            EventOperation::Deactivate
        );
        assert_eq!(
            operation("PUT", user, "/Users/a", Some(&json!({"userName": "a"}))),
            EventOperation::Update
        );
        assert_eq!(
            operation("POST", user, "/Users", None),
            EventOperation::Create
        );
        assert_eq!(
            operation("POST", user, "/Users/.search", None),
            EventOperation::Lookup
        );
        assert_eq!(
            operation("GET", group, "/Groups?filter=x", None),
            EventOperation::Lookup
        );
        assert_eq!(
            operation("DELETE", user, "/Users/a", None),
            EventOperation::Delete
        );
        assert_eq!(
            operation("GET", Some("Schema"), "/Schemas", None),
            EventOperation::Discovery
        );
        assert_eq!(operation("GET", None, "/", None), EventOperation::Discovery);
    }

    #[test]
    fn the_subject_is_the_name_the_request_carried() {
        let user = Some("User");
        let group = Some("Group");
        assert_eq!(
            subject(
                user,
                "/Users",
                Some(&json!({"userName": "jane@corp.example"}))
            )
            .as_deref(),
            Some("jane@corp.example")
        );
        assert_eq!(
            subject(group, "/Groups", Some(&json!({"displayName": "Sales"}))).as_deref(),
            Some("Sales")
        );
        assert_eq!(
            subject(
                user,
                "/Users?filter=userName%20eq%20%22jane%40corp.example%22&startIndex=1",
                None
            )
            .as_deref(),
            Some("jane@corp.example")
        );
        assert_eq!(
            subject(group, "/Groups?filter=displayName+eq+%22Team+1%22", None).as_deref(),
            Some("Team 1")
        );
        assert_eq!(
            subject(
                user,
                "/Users/.search",
                Some(&json!({"filter": "userName eq \"x\" and active eq true"}))
            )
            .as_deref(),
            Some("x")
        );
        assert_eq!(
            subject(user, "/Users?filter=title%20eq%20%22x%22", None),
            None
        );
        assert_eq!(subject(user, "/Users?filter=%%%", None), None);
        assert_eq!(subject(user, "/Users/abc", None), None);
        assert_eq!(subject(Some("Schema"), "/Schemas", None), None);
    }
}
