//! In-memory evaluation of a filter against a JSON object, used for PATCH value filters
//! (`emails[type eq "work"]`, `members[value eq "…"]`) rather than for database queries.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::{CompValue, CompareOp, Filter};
use crate::attr_path::AttrPath;
use crate::json::get_ci;

/// Whether `element` satisfies `filter`.
///
/// - Object keys are looked up case-insensitively; a URN-qualified path looks inside the
///   object stored under that URN when there is one, else at the top level.
/// - A multi-valued attribute matches when any of its values does; a complex value compared
///   without a sub-attribute is compared through its `value` sub-attribute (RFC 7644 §3.4.2.2).
/// - Strings compare case-insensitively unless `case_exact` returns true for the path. Inside a
///   value path the callback receives the full path, e.g. `emails.type` for
///   `emails[type eq "work"]`.
/// - `gt`/`ge`/`lt`/`le` order strings lexicographically and numbers numerically; booleans
///   only support `eq`/`ne`.
/// - `ne` is the negation of `eq` (so a missing attribute is `ne` anything), `eq null` holds
///   when the attribute has no non-null value, and `pr` needs a value that is not null, `""`,
///   `[]` or `{}`.
pub fn matches(filter: &Filter, element: &Value, case_exact: impl Fn(&AttrPath) -> bool) -> bool {
    Eval {
        case_exact: &case_exact,
        parent: None,
    }
    .filter(filter, element)
}

struct Eval<'a> {
    case_exact: &'a dyn Fn(&AttrPath) -> bool,
    /// The multi-valued attribute whose elements are being filtered, if inside `[…]`.
    parent: Option<&'a AttrPath>,
}

impl Eval<'_> {
    fn filter(&self, filter: &Filter, element: &Value) -> bool {
        match filter {
            Filter::And(a, b) => self.filter(a, element) && self.filter(b, element),
            Filter::Or(a, b) => self.filter(a, element) || self.filter(b, element),
            Filter::Not(inner) => !self.filter(inner, element),
            Filter::Present(path) => values(element, path).into_iter().any(is_present),
            Filter::Compare { path, op, value } => {
                let exact = (self.case_exact)(&self.full_path(path));
                let candidates = values(element, path);
                match (op, value) {
                    (CompareOp::Eq, CompValue::Null) => candidates.iter().all(|v| v.is_null()),
                    (CompareOp::Ne, CompValue::Null) => candidates.iter().any(|v| !v.is_null()),
                    (CompareOp::Ne, _) => !candidates
                        .iter()
                        .any(|v| compare(CompareOp::Eq, v, value, exact)),
                    _ => candidates.iter().any(|v| compare(*op, v, value, exact)),
                }
            }
            Filter::ValuePath { path, filter } => {
                let inner = Eval {
                    case_exact: self.case_exact,
                    parent: Some(path),
                };
                raw_values(element, path)
                    .into_iter()
                    .any(|item| inner.filter(filter, item))
            }
        }
    }

    fn full_path(&self, path: &AttrPath) -> AttrPath {
        match self.parent {
            Some(parent) => AttrPath {
                uri: parent.uri.clone(),
                attr: parent.attr.clone(),
                sub_attr: Some(path.attr.clone()),
            },
            None => path.clone(),
        }
    }
}

/// The values at `path`, with arrays flattened.
fn raw_values<'v>(element: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    let base = path
        .uri
        .as_deref()
        .and_then(|uri| get_ci(element, uri))
        .filter(|v| v.is_object())
        .unwrap_or(element);
    let mut out = Vec::new();
    let Some(top) = get_ci(base, &path.attr) else {
        return out;
    };
    for item in flatten(top) {
        match &path.sub_attr {
            Some(sub) => out.extend(get_ci(item, sub).into_iter().flat_map(flatten)),
            None => out.push(item),
        }
    }
    out
}

/// The values at `path` as compared: complex values stand for their `value` sub-attribute.
fn values<'v>(element: &'v Value, path: &AttrPath) -> Vec<&'v Value> {
    raw_values(element, path)
        .into_iter()
        .filter_map(|v| match v {
            Value::Object(_) if path.sub_attr.is_none() => get_ci(v, "value"),
            _ => Some(v),
        })
        .collect()
}

fn flatten(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn compare(op: CompareOp, actual: &Value, expected: &CompValue, exact: bool) -> bool {
    match (actual, expected) {
        (Value::String(a), CompValue::Str(e)) => compare_str(op, a, e, exact),
        (Value::Number(a), CompValue::Number(e)) => ordering_holds(op, compare_numbers(a, e)),
        (Value::Bool(a), CompValue::Bool(e)) => op == CompareOp::Eq && a == e,
        // Some clients store booleans as "True"/"False"; compare them as booleans.
        (Value::String(a), CompValue::Bool(e)) => {
            op == CompareOp::Eq && a.eq_ignore_ascii_case(if *e { "true" } else { "false" })
        }
        (actual, CompValue::Null) => op == CompareOp::Eq && actual.is_null(),
        _ => false,
    }
}

fn compare_str(op: CompareOp, actual: &str, expected: &str, exact: bool) -> bool {
    let (a, e) = if exact {
        (actual.to_owned(), expected.to_owned())
    } else {
        (actual.to_lowercase(), expected.to_lowercase())
    };
    match op {
        CompareOp::Co => a.contains(&e),
        CompareOp::Sw => a.starts_with(&e),
        CompareOp::Ew => a.ends_with(&e),
        _ => ordering_holds(op, Some(a.cmp(&e))),
    }
}

/// Exact for integers; falls back to `f64` when either side has a fraction.
fn compare_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    let int = |n: &Number| {
        n.as_i64()
            .map(i128::from)
            .or_else(|| n.as_u64().map(i128::from))
    };
    match (int(a), int(b)) {
        (Some(a), Some(b)) => Some(a.cmp(&b)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn ordering_holds(op: CompareOp, ordering: Option<Ordering>) -> bool {
    let Some(ordering) = ordering else {
        return false;
    };
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}
