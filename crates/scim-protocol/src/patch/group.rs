//! Group membership changes pulled out of a PATCH request, so the group service can run them
//! as SQL against the membership table instead of rewriting a members array in memory.

use serde_json::Value;

use super::{PatchOp, PatchOpKind};
use crate::error::PatchError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::json::get_ci;
use crate::schema::GROUP_SCHEMA;

/// One change to a group's members; ids are as sent (the caller checks they exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupMemberChange {
    /// Add these members (already-present ones are not an error).
    Add(Vec<String>),
    /// Remove these members.
    Remove(Vec<String>),
    /// Make these exactly the members (empty: remove everyone).
    Replace(Vec<String>),
}

/// Splits `ops` into membership changes, in order, and the operations left for
/// [`super::apply`].
///
/// Recognised shapes (path `members`, any case, optionally prefixed by the Group schema URN):
/// - `add`/`replace` with a value array of `{"value": id}` objects (bare id strings too);
/// - `remove` with `members[value eq "id"]` (or several `value eq` joined by `or`);
/// - `remove` with `path: "members"` and a value array (Entra); without a value it removes all;
/// - a path-less `add`/`replace` whose object has a `members` key, which is taken out and the
///   rest of the object left as a generic operation.
///
/// Other paths into `members` (sub-attributes, other filters) are `invalidPath`.
pub fn split_group_ops(
    ops: Vec<PatchOp>,
) -> Result<(Vec<GroupMemberChange>, Vec<PatchOp>), PatchError> {
    let mut changes = Vec::new();
    let mut rest = Vec::new();
    for op in ops {
        match &op.path {
            Some(path) if path.is_in_attribute(GROUP_SCHEMA, "members") => {
                let raw = path.raw.as_str();
                if path.sub_attr.is_some() || path.attr.sub_attr.is_some() {
                    return Err(whole_elements_only(raw));
                }
                let change = match (op.op, &path.filter) {
                    (PatchOpKind::Remove, Some(filter)) => {
                        let mut ids = Vec::new();
                        filter_ids(filter, &mut ids).ok_or_else(|| {
                            PatchError::invalid_path(
                                raw,
                                "members can only be selected with value eq \"…\", optionally joined by or",
                            )
                        })?;
                        GroupMemberChange::Remove(ids)
                    }
                    (_, Some(_)) => return Err(whole_elements_only(raw)),
                    (PatchOpKind::Remove, None) => match &op.value {
                        Some(value) if !value.is_null() => {
                            GroupMemberChange::Remove(member_ids(value)?)
                        }
                        _ => GroupMemberChange::Replace(Vec::new()),
                    },
                    (kind, None) => {
                        let ids = member_ids(op.value.as_ref().unwrap_or(&Value::Null))?;
                        if kind == PatchOpKind::Add {
                            GroupMemberChange::Add(ids)
                        } else {
                            GroupMemberChange::Replace(ids)
                        }
                    }
                };
                changes.push(change);
            }
            None if op.op != PatchOpKind::Remove => {
                let Some(Value::Object(mut attrs)) = op.value.clone() else {
                    rest.push(op);
                    continue;
                };
                let keys: Vec<String> = attrs
                    .keys()
                    .filter(|k| is_members_key(k))
                    .cloned()
                    .collect();
                if keys.is_empty() {
                    rest.push(op);
                    continue;
                }
                for key in keys {
                    let value = attrs.remove(&key).unwrap_or_default();
                    let ids = member_ids(&value)?;
                    changes.push(if op.op == PatchOpKind::Add {
                        GroupMemberChange::Add(ids)
                    } else {
                        GroupMemberChange::Replace(ids)
                    });
                }
                if !attrs.is_empty() {
                    rest.push(PatchOp {
                        value: Some(Value::Object(attrs)),
                        ..op
                    });
                }
            }
            _ => rest.push(op),
        }
    }
    Ok((changes, rest))
}

fn whole_elements_only(raw: &str) -> PatchError {
    PatchError::invalid_path(
        raw,
        "members are added, removed or replaced as whole elements; use \"members\" or members[value eq \"…\"]",
    )
}

fn is_members_key(key: &str) -> bool {
    key.eq_ignore_ascii_case("members")
        || key.rsplit_once(':').is_some_and(|(urn, attr)| {
            urn.eq_ignore_ascii_case(GROUP_SCHEMA) && attr.eq_ignore_ascii_case("members")
        })
}

/// Collects the ids of `value eq "id"` comparisons joined by `or`; `None` for anything else.
fn filter_ids(filter: &Filter, ids: &mut Vec<String>) -> Option<()> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if path.uri.is_none()
            && path.sub_attr.is_none()
            && path.attr.eq_ignore_ascii_case("value") =>
        {
            if !ids.contains(id) {
                // A filter names a handful of members at most: a linear check is fine here.
                ids.push(id.clone());
            }
            Some(())
        }
        Filter::Or(a, b) => {
            filter_ids(a, ids)?;
            filter_ids(b, ids)
        }
        _ => None,
    }
}

/// The ids in a members value: an array (or a single element) of `{"value": id}` objects or
/// id strings.
fn member_ids(value: &Value) -> Result<Vec<String>, PatchError> {
    let items = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    let mut ids = Vec::with_capacity(items.len());
    // Ids already taken, so that a push of tens of thousands of members stays linear.
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        let id = match item {
            Value::String(id) => Some(id),
            other => match get_ci(other, "value") {
                Some(Value::String(id)) => Some(id),
                _ => None,
            },
        };
        match id {
            Some(id) if !id.trim().is_empty() => {
                if seen.insert(id.as_str()) {
                    ids.push(id.clone());
                }
            }
            _ => {
                return Err(PatchError::invalid_value(
                    "members",
                    format!("each member needs a non-empty string \"value\", got {item}"),
                ));
            }
        }
    }
    Ok(ids)
}
