//! Checking PATCH values against attribute types, with the coercions real IdPs need: Entra's
//! `"True"`/`"False"` strings for booleans, a bare id for a complex attribute such as `manager`,
//! and canonical spelling of sub-attribute names.

use serde_json::{Map, Value};

use crate::error::PatchError;
use crate::json::set_canonical;
use crate::schema::{AttrType, Attribute};

/// Checks and normalises a whole value of `attr` (an array when it is multi-valued; a single
/// value is wrapped). `name` is the canonical path used in error messages.
pub(crate) fn coerce(attr: &Attribute, name: &str, value: Value) -> Result<Value, PatchError> {
    if !attr.multi_valued {
        return coerce_element(attr, name, value);
    }
    let items = match value {
        Value::Array(items) => items,
        Value::Null => return Ok(Value::Null),
        single => vec![single],
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let item = coerce_element(attr, name, item)?;
        if !item.is_null() {
            out.push(item);
        }
    }
    Ok(Value::Array(out))
}

/// Checks and normalises one value of `attr` (one element, for multi-valued attributes).
///
/// Sub-attributes of complex values get canonical names; sub-attributes the schema does not
/// know are kept as sent, and `null` sub-attributes are kept so that a merge can clear them.
pub(crate) fn coerce_element(
    attr: &Attribute,
    name: &str,
    value: Value,
) -> Result<Value, PatchError> {
    let wrong = |expected: &str, got: &Value| {
        PatchError::invalid_value(name, format!("expected {expected}, got {}", preview(got)))
    };
    match (attr.kind, value) {
        (_, Value::Null) => Ok(Value::Null),
        (AttrType::String | AttrType::Reference | AttrType::Binary, v @ Value::String(_)) => Ok(v),
        (AttrType::DateTime, Value::String(s)) if looks_like_datetime(&s) => Ok(Value::String(s)),
        (AttrType::DateTime, v) => Err(wrong("a date and time such as 2024-01-31T12:00:00Z", &v)),
        (AttrType::Boolean, v @ Value::Bool(_)) => Ok(v),
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => {
            Ok(Value::Bool(true))
        }
        (AttrType::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => {
            Ok(Value::Bool(false))
        }
        (AttrType::Boolean, v) => Err(wrong("a boolean (true or false)", &v)),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Value::Number(n)),
        (AttrType::Integer, v) => Err(wrong("an integer", &v)),
        (AttrType::Decimal, v @ Value::Number(_)) => Ok(v),
        (AttrType::Decimal, v) => Err(wrong("a number", &v)),
        (AttrType::Complex, Value::Object(obj)) => {
            let mut out = Map::new();
            for (key, sub_value) in obj {
                match attr.sub_attribute(&key) {
                    Some(sub) => {
                        let sub_name = format!("{name}.{}", sub.name);
                        let sub_value = coerce(sub, &sub_name, sub_value)?;
                        set_canonical(&mut out, sub.name, sub_value);
                    }
                    None => {
                        out.insert(key, sub_value);
                    }
                }
            }
            Ok(Value::Object(out))
        }
        // Entra sets `manager` to a bare id; read it as `{"value": id}`.
        (AttrType::Complex, Value::String(id)) if attr.sub_attribute("value").is_some() => {
            let mut obj = Map::new();
            obj.insert("value".into(), Value::String(id));
            coerce_element(attr, name, Value::Object(obj))
        }
        (AttrType::Complex, v) => Err(wrong("a JSON object", &v)),
        (_, v) => Err(wrong("a string", &v)),
    }
}

/// A short rendering of a value for error messages.
fn preview(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 40 {
        return text;
    }
    let cut: String = text.chars().take(40).collect();
    format!("{cut}…")
}

/// `YYYY-MM-DDThh:mm:ss` at the start; the rest (fraction, zone) is left to the database.
fn looks_like_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
        && matches!(b.get(10), Some(b'T' | b't'))
        && digits(11..13)
        && b.get(13) == Some(&b':')
        && digits(14..16)
        && b.get(16) == Some(&b':')
        && digits(17..19)
}

/// Whether a value counts as unassigned (RFC 7643 §2.5: null and `[]` are equivalent to absent).
pub(crate) fn is_unassigned(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}
