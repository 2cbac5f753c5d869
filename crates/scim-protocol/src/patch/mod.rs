//! RFC 7644 §3.5.2 PATCH: parsing PatchOp messages ([`parse_patch`]), applying them to a
//! resource document ([`apply`]) and splitting off Group membership changes that the service
//! runs in SQL ([`split_group_ops`]).

mod active;
mod apply;
mod elements;
mod filtered;
mod group;
mod path;
mod resolve;
mod schemaless;
mod value;
mod write;

#[cfg(test)]
mod tests;

use serde_json::Value;

pub use active::sets_only_active;
pub use apply::apply;
pub use group::{GroupMemberChange, split_group_ops};
pub use path::PatchPath;

use crate::error::PatchError;
use crate::json::get_ci;

/// URN that identifies a PATCH request body.
pub const PATCH_OP_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The three PATCH operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatchOpKind {
    /// `add`.
    Add,
    /// `replace`.
    Replace,
    /// `remove`.
    Remove,
}

impl PatchOpKind {
    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Replace => "replace",
            Self::Remove => "remove",
        }
    }
}

/// One operation of a PATCH request.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOp {
    /// What to do.
    pub op: PatchOpKind,
    /// Where; `None` means the resource itself.
    pub path: Option<PatchPath>,
    /// The value, as sent. Always present for `add` and `replace` (possibly JSON `null`), and
    /// an object of attributes when they have no path.
    pub value: Option<Value>,
}

/// Parses and validates a PATCH request body.
///
/// Checks that `schemas` lists [`PATCH_OP_SCHEMA`] and that `Operations` (any case) is a
/// non-empty array; `op` is matched case-insensitively (Entra sends `Add`/`Replace`/`Remove`).
/// `add` and `replace` need a `value`; `remove` may carry one (Entra removes group members
/// with `path: "members"` plus a value listing them). An empty `path` counts as no path. Paths
/// are parsed here but resolved against the schema only in [`apply`].
pub fn parse_patch(body: &Value) -> Result<Vec<PatchOp>, PatchError> {
    parse_patch_owned(body.clone())
}

/// [`parse_patch`] taking the body: the operations' values are moved out of it rather than
/// copied (a push of tens of thousands of members would otherwise be held twice).
pub fn parse_patch_owned(mut body: Value) -> Result<Vec<PatchOp>, PatchError> {
    check_envelope(&body)?;
    let operations = body
        .as_object_mut()
        .and_then(|map| crate::json::find_key(map, "Operations").and_then(|key| map.remove(&key)));
    let Some(Value::Array(operations)) = operations else {
        return Err(PatchError::InvalidSyntax(
            "\"Operations\" must be an array of operations".into(),
        ));
    };
    operations
        .into_iter()
        .enumerate()
        .map(|(i, op)| parse_op(i + 1, op))
        .collect()
}

/// Checks `schemas` and that `Operations` is a non-empty array.
fn check_envelope(body: &Value) -> Result<(), PatchError> {
    if !body.is_object() {
        return Err(PatchError::InvalidSyntax(
            "the body must be a JSON object".into(),
        ));
    }
    let lists_patch_op = get_ci(body, "schemas")
        .and_then(Value::as_array)
        .is_some_and(|schemas| {
            schemas
                .iter()
                .filter_map(Value::as_str)
                .any(|s| s.eq_ignore_ascii_case(PATCH_OP_SCHEMA))
        });
    if !lists_patch_op {
        return Err(PatchError::InvalidSyntax(format!(
            "\"schemas\" must contain \"{PATCH_OP_SCHEMA}\""
        )));
    }
    match get_ci(body, "Operations") {
        Some(Value::Array(ops)) if !ops.is_empty() => Ok(()),
        Some(Value::Array(_)) => Err(PatchError::InvalidSyntax(
            "\"Operations\" must not be empty".into(),
        )),
        _ => Err(PatchError::InvalidSyntax(
            "\"Operations\" must be an array of operations".into(),
        )),
    }
}

fn parse_op(number: usize, mut raw: Value) -> Result<PatchOp, PatchError> {
    // The value is moved out; the rest of the operation is read in place.
    let value = raw
        .as_object_mut()
        .and_then(|map| crate::json::find_key(map, "value").and_then(|key| map.remove(&key)));
    let raw = &raw;
    let syntax =
        |reason: String| PatchError::InvalidSyntax(format!("operation {number}: {reason}"));
    if !raw.is_object() {
        return Err(syntax("must be a JSON object".into()));
    }
    let op = match get_ci(raw, "op").and_then(Value::as_str) {
        Some(op) if op.eq_ignore_ascii_case("add") => PatchOpKind::Add,
        Some(op) if op.eq_ignore_ascii_case("replace") => PatchOpKind::Replace,
        Some(op) if op.eq_ignore_ascii_case("remove") => PatchOpKind::Remove,
        Some(other) => {
            return Err(syntax(format!(
                "\"op\" must be \"add\", \"replace\" or \"remove\", not \"{other}\""
            )));
        }
        None => return Err(syntax("\"op\" is missing".into())),
    };
    let path = match get_ci(raw, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) if text.trim().is_empty() => None,
        Some(Value::String(text)) => Some(PatchPath::parse(text)?),
        Some(_) => return Err(syntax("\"path\" must be a string".into())),
    };
    if op != PatchOpKind::Remove {
        match (&path, &value) {
            (_, None) => {
                return Err(syntax(format!("\"{}\" needs a \"value\"", op.as_str())));
            }
            (None, Some(v)) if !v.is_object() => {
                return Err(syntax(format!(
                    "without a \"path\", the \"value\" of \"{}\" must be an object of attributes",
                    op.as_str()
                )));
            }
            _ => {}
        }
    }
    Ok(PatchOp { op, path, value })
}
