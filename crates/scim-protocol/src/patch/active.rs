//! Recognising a PATCH that only sets `active`: Okta's deactivation (a path-less `replace` of
//! `{"active": false}`) and Entra's (`Replace` of path `active` with `"False"`). The service
//! writes those without reading the user first.

use serde_json::{Value, json};

use super::{PatchOp, PatchOpKind, apply};
use crate::schema::{ResourceKind, USER_SCHEMA};

/// The value of `active` after `ops`, when all they do is set `active` on a User; `None` when
/// any operation does anything else or would fail (the caller then applies the PATCH to the
/// whole document, which also reports the error). The value itself comes from the PATCH
/// engine, so coercions (`"False"`) and the last-operation-wins rule are the engine's.
pub fn sets_only_active(ops: &[PatchOp]) -> Option<bool> {
    if !ops.iter().all(targets_active_only) {
        return None;
    }
    let mut doc = json!({ "schemas": [USER_SCHEMA], "active": true });
    apply(&mut doc, ResourceKind::User, ops).ok()?;
    doc.get("active").and_then(Value::as_bool)
}

fn targets_active_only(op: &PatchOp) -> bool {
    if op.op == PatchOpKind::Remove {
        return false;
    }
    match (&op.path, &op.value) {
        (Some(path), _) => {
            path.filter.is_none()
                && path.sub_attr.is_none()
                && path.attr.sub_attr.is_none()
                && path
                    .attr
                    .uri
                    .as_deref()
                    .is_none_or(|uri| uri.eq_ignore_ascii_case(USER_SCHEMA))
                && path.attr.attr.eq_ignore_ascii_case("active")
        }
        (None, Some(Value::Object(map))) => {
            map.len() == 1 && map.keys().all(|key| key.eq_ignore_ascii_case("active"))
        }
        (None, _) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::patch::parse_patch;

    fn ops(operations: Value) -> Vec<PatchOp> {
        parse_patch(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        }))
        .unwrap_or_default()
    }

    #[test]
    fn okta_and_entra_deactivations_are_recognised() {
        assert_eq!(
            sets_only_active(&ops(json!([{"op": "replace", "value": {"active": false}}]))),
            Some(false)
        );
        assert_eq!(
            sets_only_active(&ops(
                json!([{"op": "Replace", "path": "active", "value": "False"}])
            )),
            Some(false)
        );
        assert_eq!(
            sets_only_active(&ops(json!([
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": false},
                {"op": "add", "path": "ACTIVE", "value": true},
            ]))),
            Some(true),
            "the last operation wins, as in the engine"
        );
    }

    #[test]
    fn anything_more_is_left_to_the_whole_document() {
        for operations in [
            json!([{"op": "replace", "value": {"active": false, "displayName": "X"}}]),
            json!([{"op": "replace", "path": "active", "value": false}, {"op": "replace", "path": "title", "value": "T"}]),
            json!([{"op": "remove", "path": "active"}]),
            json!([{"op": "replace", "path": "active", "value": "maybe"}]),
            json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "a@b.c"}]),
            json!([{"op": "replace", "value": {}}]),
        ] {
            assert_eq!(
                sets_only_active(&ops(operations.clone())),
                None,
                "{operations}"
            );
        }
    }
}
