//! Secrets out of what is kept: the values of every attribute the schemas mark write-only or
//! never returned (RFC 7643 §7; `password` in the core User schema, and any extension attribute
//! so marked), wherever a request puts them — a resource body (POST, PUT, a path-less PATCH
//! value, URN-qualified keys, extension objects), a PATCH operation's `path`, a filter (in the
//! query string or a `.search` body). As a second net, keys that merely look secret (`…token`,
//! `…secret`, `…password`, `…apikey`, `…credential`) are redacted too, so custom attributes an
//! identity provider adds are covered.
//!
//! Each redaction also returns the secret values it found, so that any other text about the
//! request that could echo them (an error message, the request path) can be scrubbed.

mod forms;

use serde_json::{Map, Value};

use self::forms::{filter_secrets, operation};
use crate::attr_path::AttrPath;
use crate::filter::parse_filter;
use crate::schema::{Attribute, Mutability, ResourceKind, Returned, find_attribute, find_schema};

/// What a redacted value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Key endings that are treated as secret whatever the schema says.
const SECRET_WORDS: [&str; 5] = ["password", "secret", "token", "apikey", "credential"];

/// A copy of a request part with its secrets replaced by [`REDACTED`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Redaction {
    /// The copy.
    pub value: Value,
    /// The secret texts that were removed (to scrub them from anything else that is kept).
    pub secrets: Vec<String>,
    /// The request names a secret attribute in a part that could not be parsed, so its
    /// secrets are unknown: text derived from the request (error messages) must not be kept.
    pub opaque: bool,
}

/// Whether values of `attribute` must never be logged or stored in clear.
pub fn is_secret(attribute: &Attribute) -> bool {
    attribute.returned == Returned::Never || attribute.mutability == Mutability::WriteOnly
}

/// Whether a key name looks like it holds a secret.
fn looks_secret(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| lower.ends_with(word))
}

/// Whether a filter or path text names something secret, when it could not be parsed.
fn mentions_secret(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|word| lower.contains(word))
}

/// A resource body (POST, PUT, or the value of a path-less PATCH operation) of `kind`.
pub fn redact_resource(kind: ResourceKind, body: &Value) -> Redaction {
    let mut redaction = Redaction::default();
    redaction.value = resource(kind, None, body, &mut redaction.secrets);
    redaction
}

/// A PATCH body of `kind`: each operation's value, by what its path names.
pub fn redact_patch(kind: ResourceKind, body: &Value) -> Redaction {
    by_key(body, |key, value, redaction| match value {
        Value::Array(ops) if key.eq_ignore_ascii_case("Operations") => Some(Value::Array(
            ops.iter()
                .map(|op| operation(kind, op, redaction))
                .collect(),
        )),
        _ => None,
    })
}

/// A SearchRequest body (`POST …/.search`) of `kind`: its filter.
pub fn redact_search(kind: ResourceKind, body: &Value) -> Redaction {
    by_key(body, |key, value, redaction| match value {
        Value::String(text) if key.eq_ignore_ascii_case("filter") => {
            let filtered = redact_filter(kind, text);
            redaction.secrets.extend(filtered.secrets);
            redaction.opaque |= filtered.opaque;
            Some(filtered.value)
        }
        _ => None,
    })
}

/// A message body redacted key by key: `known` handles the keys it knows (`Some`), every other
/// value is redacted as of unknown meaning.
fn by_key(
    body: &Value,
    mut known: impl FnMut(&str, &Value, &mut Redaction) -> Option<Value>,
) -> Redaction {
    let mut redaction = Redaction::default();
    let Value::Object(map) = body else {
        redaction.value = unknown(body, &mut redaction.secrets);
        return redaction;
    };
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let value = match known(key, value, &mut redaction) {
            Some(value) => value,
            None => unknown(value, &mut redaction.secrets),
        };
        out.insert(key.clone(), value);
    }
    redaction.value = Value::Object(out);
    redaction
}

/// A filter text of `kind`, with the values compared against secret attributes replaced (the
/// value is the filter's text again). An unparsable filter that names something secret is
/// replaced whole and marked opaque.
pub fn redact_filter(kind: ResourceKind, text: &str) -> Redaction {
    let mut redaction = Redaction::default();
    match parse_filter(text) {
        Ok(mut filter) => {
            if filter_secrets(kind, None, &mut filter, &mut redaction.secrets) {
                redaction.value = Value::String(filter.to_string());
            } else {
                redaction.value = Value::String(text.to_owned());
            }
        }
        Err(_) if mentions_secret(text) => {
            redaction.value = Value::String(REDACTED.to_owned());
            redaction.opaque = true;
        }
        Err(_) => redaction.value = Value::String(text.to_owned()),
    }
    redaction
}

/// `text` with every occurrence of the secrets replaced by [`REDACTED`] (longest first, so a
/// secret that contains another is removed whole).
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut secrets: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    if secrets.is_empty() {
        return text.to_owned();
    }
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = text.to_owned();
    for secret in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), REDACTED);
        }
        // A secret may appear escaped as it was in JSON or percent-encoded as in a URL.
        for form in [json_escaped(secret), percent_encoded(secret)] {
            if form != **secret && out.contains(&form) {
                out = out.replace(&form, REDACTED);
            }
        }
    }
    out
}

/// Removes the secret attributes from a canonical document of `kind` (the one that is stored),
/// top-level, in extension objects and among sub-attributes.
pub fn strip_secrets(kind: ResourceKind, doc: &mut Value) {
    let Value::Object(map) = doc else { return };
    map.retain(|key, value| {
        if let Some(schema) = kind
            .extensions()
            .iter()
            .find(|schema| schema.id.eq_ignore_ascii_case(key))
        {
            if let Value::Object(inner) = value {
                inner.retain(|attr, value| match schema.attribute(attr) {
                    Some(attribute) => keep(attribute, value),
                    None => true,
                });
            }
            return true;
        }
        match find_attribute(kind, &AttrPath::new(key.clone())) {
            Some(resolved) => keep(resolved.attribute, value),
            None => true,
        }
    });
}

/// Whether a value of `attribute` may be stored, dropping secret sub-attributes from it.
fn keep(attribute: &Attribute, value: &mut Value) -> bool {
    if is_secret(attribute) {
        return false;
    }
    if attribute.sub_attributes.iter().any(is_secret) {
        let strip = |item: &mut Value| {
            if let Value::Object(fields) = item {
                fields.retain(|sub, _| attribute.sub_attribute(sub).is_none_or(|s| !is_secret(s)));
            }
        };
        match value {
            Value::Array(items) => items.iter_mut().for_each(strip),
            other => strip(other),
        }
    }
    true
}

/// The body of a resource, or of an extension object (`schema` given), key by key.
fn resource(
    kind: ResourceKind,
    schema: Option<&'static crate::schema::Schema>,
    body: &Value,
    secrets: &mut Vec<String>,
) -> Value {
    let Value::Object(map) = body else {
        return unknown(body, secrets);
    };
    let mut out = Map::with_capacity(map.len());
    for (key, value) in map {
        let value = match schema {
            Some(schema) => match schema.attribute(key) {
                Some(attribute) => attribute_value(attribute, value, secrets),
                None => keyed(key, value, secrets),
            },
            None => top_level(kind, key, value, secrets),
        };
        out.insert(key.clone(), value);
    }
    Value::Object(out)
}

/// One top-level key of a resource body: an extension object, a URN-qualified attribute, or a
/// plain attribute name.
fn top_level(kind: ResourceKind, key: &str, value: &Value, secrets: &mut Vec<String>) -> Value {
    if let Some(schema) = find_schema(key) {
        // `"urn:…:enterprise:2.0:User": {…}`, and the core schema's URN used the same way.
        return resource(kind, Some(schema), value, secrets);
    }
    let path = AttrPath::from_word(key).unwrap_or_else(|_| AttrPath::new(key));
    match find_attribute(kind, &path) {
        Some(resolved) => attribute_value(resolved.definition(), value, secrets),
        None => keyed(key, value, secrets),
    }
}

/// The value of a known attribute: redacted whole when the attribute is secret; otherwise its
/// secret sub-attributes (and secret-looking keys inside) are.
fn attribute_value(attribute: &Attribute, value: &Value, secrets: &mut Vec<String>) -> Value {
    if is_secret(attribute) {
        return redacted(value, secrets);
    }
    if attribute.sub_attributes.is_empty() {
        return unknown(value, secrets);
    }
    let element = |item: &Value, secrets: &mut Vec<String>| match item {
        Value::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(sub, v)| {
                    let v = match attribute.sub_attribute(sub) {
                        Some(def) if is_secret(def) => redacted(v, secrets),
                        Some(_) => unknown(v, secrets),
                        None => keyed(sub, v, secrets),
                    };
                    (sub.clone(), v)
                })
                .collect(),
        ),
        other => unknown(other, secrets),
    };
    match value {
        Value::Array(items) => Value::Array(items.iter().map(|i| element(i, secrets)).collect()),
        other => element(other, secrets),
    }
}

/// A value under a key no schema defines: redacted when the key looks secret.
fn keyed(key: &str, value: &Value, secrets: &mut Vec<String>) -> Value {
    if looks_secret(key) {
        redacted(value, secrets)
    } else {
        unknown(value, secrets)
    }
}

/// A value of unknown meaning: its secret-looking keys are redacted at any depth.
fn unknown(value: &Value, secrets: &mut Vec<String>) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, v)| (key.clone(), keyed(key, v, secrets)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| unknown(v, secrets)).collect()),
        other => other.clone(),
    }
}

/// [`REDACTED`] in place of `value`, whose texts are remembered as secrets.
fn redacted(value: &Value, secrets: &mut Vec<String>) -> Value {
    collect_texts(value, secrets);
    Value::String(REDACTED.to_owned())
}

fn collect_texts(value: &Value, secrets: &mut Vec<String>) {
    match value {
        Value::String(text) => secrets.push(text.clone()),
        Value::Number(number) => secrets.push(number.to_string()),
        Value::Array(items) => items.iter().for_each(|v| collect_texts(v, secrets)),
        Value::Object(map) => map.values().for_each(|v| collect_texts(v, secrets)),
        Value::Null | Value::Bool(_) => {}
    }
}

fn json_escaped(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_owned()
}

fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
