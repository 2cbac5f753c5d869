//! Applying parsed PATCH operations to a resource document: dispatch on the operation and
//! its target, and what path-less values may contain.

use serde_json::{Map, Value};

use super::elements::object_slot;
use super::path::PatchPath;
use super::resolve::{Target, resolve};
use super::schemaless::{remove_unknown, tidy_extensions, write_unknown};
use super::write::{remove_known, write_known};
use super::{PatchOp, PatchOpKind};
use crate::attr_path::AttrPath;
use crate::error::PatchError;
use crate::json::{find_key, get_canonical_mut, remove_ci};
use crate::schema::{AttrType, ResourceKind, Schema};

/// Applies `ops` in order to `resource`, a full SCIM resource document with canonical
/// attribute names and each extension stored as an object under its URN key.
///
/// All or nothing: the operations run on a copy, and `resource` is only replaced when every
/// one succeeded, so on error the caller can report it and keep the stored document.
///
/// Decisions where RFC 7644 §3.5.2 leaves room (each is covered by a test):
/// - Path-less values may use URN-qualified keys, whole extension objects under the URN,
///   dotted keys (`name.givenName`) and any case. Keys naming no known attribute are kept as
///   sent (custom IdP attributes must never be dropped), while an explicit `path` naming an
///   unknown attribute is `invalidPath`. Paths under an unknown extension URN are kept under
///   that URN's key.
/// - `id`, `meta`, `schemas` and `groups` are read-only (`mutability`), except that a value
///   equal to the current `id` is accepted and ignored (Okta sends it when renaming a group).
/// - Removing, or replacing with null, a required attribute (`userName`, a group's
///   `displayName`) is `invalidValue`, RFC 7644 §3.12's code for "a required value was missing".
/// - `add` through a value filter that matches nothing creates the element the filter's `eq`
///   comparisons describe (Entra adds a work email as `emails[type eq "work"].value`);
///   `replace` and `remove` through such a filter are `noTarget`.
/// - `remove` of a multi-valued attribute with a `value` removes only the listed elements.
/// - Setting `primary: true` on one element clears it on the others.
/// - Extension objects left empty are removed, and `schemas` lists exactly the extensions the
///   document carries data for.
pub fn apply(resource: &mut Value, kind: ResourceKind, ops: &[PatchOp]) -> Result<(), PatchError> {
    let mut doc = resource.clone();
    let Some(map) = doc.as_object_mut() else {
        return Err(PatchError::InvalidSyntax(
            "the resource is not a JSON object".into(),
        ));
    };
    let engine = Engine { kind };
    for op in ops {
        engine.op(map, op)?;
    }
    tidy_extensions(map, kind);
    *resource = doc;
    Ok(())
}

struct Engine {
    kind: ResourceKind,
}

impl Engine {
    fn op(&self, map: &mut Map<String, Value>, op: &PatchOp) -> Result<(), PatchError> {
        let value = op.value.clone().unwrap_or(Value::Null);
        match (&op.path, op.op) {
            (None, PatchOpKind::Remove) => Err(PatchError::no_target(
                "",
                "a \"remove\" operation needs a \"path\" naming what to remove",
            )),
            (None, kind) => self.write_object(map, kind, value),
            (Some(path), PatchOpKind::Remove) => self.remove(map, path, op.value.as_ref()),
            (Some(path), kind) => self.write(map, kind, path, value),
        }
    }

    /// A path-less `add`/`replace`: every key of `value` is a path of its own.
    fn write_object(
        &self,
        map: &mut Map<String, Value>,
        op: PatchOpKind,
        value: Value,
    ) -> Result<(), PatchError> {
        let Value::Object(attrs) = value else {
            return Err(PatchError::InvalidSyntax(
                "a value without a \"path\" must be an object of attributes".into(),
            ));
        };
        for (key, value) in attrs {
            self.write_key(map, op, &key, value)?;
        }
        Ok(())
    }

    fn write_key(
        &self,
        map: &mut Map<String, Value>,
        op: PatchOpKind,
        key: &str,
        value: Value,
    ) -> Result<(), PatchError> {
        if key.eq_ignore_ascii_case("schemas") {
            return self.check_schemas_value(map, &value);
        }
        let Ok(path) = PatchPath::parse(key) else {
            return write_unknown(map, op, key, None, value);
        };
        match resolve(self.kind, map, &path) {
            Ok(target) => self.write_target(map, op, target, &path, value),
            // A bracketed key is a path expression; its mistakes are the client's to see.
            Err(e) if path.filter.is_some() => Err(e),
            Err(_) => self.write_unplaced(map, op, key, &path, value),
        }
    }

    /// A path-less key that names no known attribute: `name.nickname` goes into `name`, and
    /// anything else (Okta sends custom attributes by bare name) is kept under the key as sent.
    fn write_unplaced(
        &self,
        map: &mut Map<String, Value>,
        op: PatchOpKind,
        key: &str,
        path: &PatchPath,
        value: Value,
    ) -> Result<(), PatchError> {
        if let Some(sub) = &path.attr.sub_attr {
            let top = PatchPath {
                attr: AttrPath {
                    sub_attr: None,
                    ..path.attr.clone()
                },
                filter: None,
                sub_attr: None,
                raw: path.raw.clone(),
            };
            if let Ok(Target::Known(resolved)) = resolve(self.kind, map, &top) {
                let attr = resolved.attribute;
                if attr.kind == AttrType::Complex && !attr.multi_valued {
                    let mut obj = Map::new();
                    obj.insert(sub.clone(), value);
                    return write_known(map, op, &resolved, &top, Value::Object(obj));
                }
            }
        }
        write_unknown(map, op, key, None, value)
    }

    fn write(
        &self,
        map: &mut Map<String, Value>,
        op: PatchOpKind,
        path: &PatchPath,
        value: Value,
    ) -> Result<(), PatchError> {
        let target = resolve(self.kind, map, path)?;
        self.write_target(map, op, target, path, value)
    }

    fn write_target(
        &self,
        map: &mut Map<String, Value>,
        op: PatchOpKind,
        target: Target,
        path: &PatchPath,
        value: Value,
    ) -> Result<(), PatchError> {
        match target {
            Target::Schemas => Err(schemas_read_only()),
            Target::Resource => self.write_object(map, op, value),
            Target::Extension(schema) => self.write_extension(map, op, schema, value),
            Target::Known(resolved) => write_known(map, op, &resolved, path, value),
            Target::Custom { attr, sub } => write_unknown(map, op, &attr, sub.as_deref(), value),
            Target::Unknown {
                container,
                attr,
                sub,
            } => {
                if let (None, Value::Object(attrs)) = (&sub, &value) {
                    // An object under an unknown URN is a whole extension, stored like ours
                    // under its URN key: `{"urn:example:ext:2.0:User": {"shoeSize": 43}}`.
                    let inner = object_slot(map, &format!("{container}:{attr}"))?;
                    for (key, value) in attrs {
                        write_unknown(inner, op, key, None, value.clone())?;
                    }
                    return Ok(());
                }
                let inner = object_slot(map, &container)?;
                write_unknown(inner, op, &attr, sub.as_deref(), value)
            }
        }
    }

    /// `{"urn:…:enterprise:2.0:User": {"department": "x"}}` or the same URN as a path.
    fn write_extension(
        &self,
        map: &mut Map<String, Value>,
        op: PatchOpKind,
        schema: &'static Schema,
        value: Value,
    ) -> Result<(), PatchError> {
        let Value::Object(attrs) = value else {
            if value.is_null() {
                // Replacing an extension with nothing unassigns it; adding nothing is a no-op.
                if op == PatchOpKind::Replace {
                    remove_ci(map, schema.id);
                }
                return Ok(());
            }
            return Err(PatchError::invalid_value(
                schema.id,
                "expected a JSON object of extension attributes",
            ));
        };
        for (key, value) in attrs {
            let placed = PatchPath::parse(key.as_str()).ok().and_then(|mut path| {
                path.attr.uri.get_or_insert_with(|| schema.id.to_owned());
                match resolve(self.kind, map, &path) {
                    Ok(Target::Known(r)) if std::ptr::eq(r.schema, schema) => Some((r, path)),
                    _ => None,
                }
            });
            match placed {
                Some((resolved, path)) => write_known(map, op, &resolved, &path, value)?,
                None => write_unknown(object_slot(map, schema.id)?, op, &key, None, value)?,
            }
        }
        Ok(())
    }

    /// A `schemas` key in a path-less value is accepted only when it changes nothing we track.
    fn check_schemas_value(
        &self,
        map: &Map<String, Value>,
        value: &Value,
    ) -> Result<(), PatchError> {
        let current = map.get("schemas").and_then(Value::as_array);
        let known = |urn: &str| {
            self.kind
                .schemas()
                .iter()
                .any(|s| s.id.eq_ignore_ascii_case(urn))
                || current.is_some_and(|list| {
                    list.iter()
                        .filter_map(Value::as_str)
                        .any(|s| s.eq_ignore_ascii_case(urn))
                })
        };
        match value.as_array() {
            Some(list) if list.iter().all(|v| v.as_str().is_some_and(known)) => Ok(()),
            _ => Err(schemas_read_only()),
        }
    }

    fn remove(
        &self,
        map: &mut Map<String, Value>,
        path: &PatchPath,
        value: Option<&Value>,
    ) -> Result<(), PatchError> {
        match resolve(self.kind, map, path)? {
            Target::Schemas => Err(schemas_read_only()),
            Target::Custom { attr, sub } => {
                remove_unknown(map, &attr, sub.as_deref());
                Ok(())
            }
            Target::Resource => Err(PatchError::invalid_path(
                &path.raw,
                "the resource itself cannot be removed",
            )),
            Target::Extension(schema) => {
                remove_ci(map, schema.id);
                Ok(())
            }
            Target::Known(resolved) => remove_known(map, &resolved, path, value),
            Target::Unknown {
                container,
                attr,
                sub,
            } => {
                let whole = format!("{container}:{attr}");
                if sub.is_none() && find_key(map, &whole).is_some() {
                    remove_ci(map, &whole);
                } else if let Some(Value::Object(inner)) = get_canonical_mut(map, &container) {
                    remove_unknown(inner, &attr, sub.as_deref());
                }
                Ok(())
            }
        }
    }
}

fn schemas_read_only() -> PatchError {
    PatchError::mutability("schemas", "it is maintained by the server")
}
