//! Secrets in the parts of a request that name what they change: PATCH operations (by their
//! `path`) and filters (by the attributes they compare).

use serde_json::{Map, Value};

use super::{
    REDACTED, Redaction, attribute_value, is_secret, keyed, looks_secret, mentions_secret,
    redacted, resource, unknown,
};
use crate::filter::{CompValue, Filter};
use crate::patch::PatchPath;
use crate::schema::{Attribute, ResourceKind, find_attribute, find_schema};

/// One PATCH operation: its value redacted by what its path names.
pub(super) fn operation(kind: ResourceKind, op: &Value, redaction: &mut Redaction) -> Value {
    let Value::Object(fields) = op else {
        return unknown(op, &mut redaction.secrets);
    };
    let path = fields
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("path"))
        .and_then(|(_, path)| path.as_str());
    let mut out = Map::with_capacity(fields.len());
    for (key, value) in fields {
        let value = if key.eq_ignore_ascii_case("value") {
            operation_value(kind, path, value, redaction)
        } else if key.eq_ignore_ascii_case("path") {
            match value.as_str() {
                Some(text) => path_text(kind, text, redaction),
                None => unknown(value, &mut redaction.secrets),
            }
        } else {
            unknown(value, &mut redaction.secrets)
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

fn operation_value(
    kind: ResourceKind,
    path: Option<&str>,
    value: &Value,
    redaction: &mut Redaction,
) -> Value {
    let secrets = &mut redaction.secrets;
    let Some(path) = path else {
        // Path-less: the value is a partial resource.
        return resource(kind, None, value, secrets);
    };
    if let Some(schema) = find_schema(path) {
        // `"path": "urn:…:enterprise:2.0:User"` with an object of its attributes.
        return resource(kind, Some(schema), value, secrets);
    }
    let Ok(parsed) = PatchPath::parse(path) else {
        if mentions_secret(path) {
            redaction.opaque = true;
            return redacted(value, secrets);
        }
        return unknown(value, secrets);
    };
    let Some(resolved) = find_attribute(kind, &parsed.attr) else {
        return keyed(&parsed.attr.attr, value, secrets);
    };
    let target = match (resolved.sub_attribute, &parsed.sub_attr) {
        (Some(sub), _) => sub,
        (None, Some(sub)) => match resolved.attribute.sub_attribute(sub) {
            Some(sub) => sub,
            None => return keyed(sub, value, secrets),
        },
        (None, None) => resolved.attribute,
    };
    if is_secret(resolved.attribute) {
        return redacted(value, secrets);
    }
    attribute_value(target, value, secrets)
}

/// A PATCH path, with the values of any comparison on a secret attribute in its filter
/// replaced (`emails[value eq "…"]` is kept; nothing standard is secret there).
fn path_text(kind: ResourceKind, text: &str, redaction: &mut Redaction) -> Value {
    let Ok(mut parsed) = PatchPath::parse(text) else {
        if mentions_secret(text) {
            // Whatever follows the name may be the secret itself.
            redaction.opaque = true;
            return Value::String(REDACTED.to_owned());
        }
        return Value::String(text.to_owned());
    };
    let parent = find_attribute(kind, &parsed.attr).map(|r| r.attribute);
    let changed = parsed
        .filter
        .as_mut()
        .is_some_and(|filter| filter_secrets(kind, parent, filter, &mut redaction.secrets));
    if changed {
        Value::String(parsed.to_string())
    } else {
        Value::String(text.to_owned())
    }
}

/// Replaces the values compared against secret attributes; whether anything was replaced.
/// `parent` is the multi-valued attribute a value filter's paths are relative to.
pub(super) fn filter_secrets(
    kind: ResourceKind,
    parent: Option<&'static Attribute>,
    filter: &mut Filter,
    secrets: &mut Vec<String>,
) -> bool {
    match filter {
        Filter::And(a, b) | Filter::Or(a, b) => {
            let left = filter_secrets(kind, parent, a, secrets);
            filter_secrets(kind, parent, b, secrets) || left
        }
        Filter::Not(inner) => filter_secrets(kind, parent, inner, secrets),
        Filter::Present(_) => false,
        Filter::ValuePath { path, filter } => {
            let parent = find_attribute(kind, path).map(|r| r.attribute);
            filter_secrets(kind, parent, filter, secrets)
        }
        Filter::Compare { path, value, .. } => {
            let secret = match parent {
                Some(parent) => parent
                    .sub_attribute(&path.attr)
                    .map_or_else(|| looks_secret(&path.attr), is_secret),
                None => match find_attribute(kind, path) {
                    Some(resolved) => {
                        is_secret(resolved.attribute) || is_secret(resolved.definition())
                    }
                    None => looks_secret(&path.attr),
                },
            };
            if !secret {
                return false;
            }
            match value {
                CompValue::Str(text) => secrets.push(std::mem::replace(text, REDACTED.into())),
                CompValue::Number(number) => {
                    secrets.push(number.to_string());
                    *value = CompValue::Str(REDACTED.into());
                }
                CompValue::Bool(_) | CompValue::Null => {}
            }
            true
        }
    }
}
