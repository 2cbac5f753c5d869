//! Users and groups between the wire and the database: incoming documents are normalised with
//! the PATCH engine (canonical names, typed values, read-only attributes refused), the queried
//! columns are derived from them, and stored rows are rendered back with `id`, `meta`, and
//! `groups` or `members`.

use scim_protocol::schema::{GROUP_SCHEMA, ResourceKind, USER_SCHEMA};
use scim_protocol::{PatchOp, PatchOpKind, apply};
use serde_json::{Map, Value, json};
use tenancy::GroupId;
use tenancy::directory::groups::{GroupFields, GroupRow, MemberRow};
use tenancy::directory::users::{UserFields, UserRow};

use crate::error::ScimError;

/// Attributes a client may send but that are never stored from its input: server-assigned,
/// derived, or secret (passwords are not kept: provisioned users sign in with OpenID).
const NOT_STORED: [&str; 4] = ["schemas", "meta", "password", "groups"];

/// Normalises a POST or PUT body into the document to store. `current_id` is the resource's id
/// on PUT: a body `id` must equal it (`mutability` otherwise); on POST a body `id` is ignored,
/// as RFC 7644 §3.3 asks. Group `members` are taken out for the caller.
pub fn normalize(
    kind: ResourceKind,
    body: Value,
    current_id: Option<&str>,
) -> Result<(Value, Option<Value>), ScimError> {
    let Value::Object(mut map) = body else {
        return Err(ScimError::invalid_syntax(
            "The request body must be a JSON object.",
        ));
    };
    map.retain(|key, _| !NOT_STORED.iter().any(|n| n.eq_ignore_ascii_case(key)));
    let body_id = take_ci(&mut map, "id");
    let members = if kind == ResourceKind::Group {
        take_ci(&mut map, "members")
    } else {
        None
    };
    let mut doc = Map::new();
    if let Some(id) = current_id {
        doc.insert("id".into(), Value::String(id.to_owned()));
        if let Some(sent) = body_id
            && sent.as_str() != Some(id)
        {
            return Err(ScimError::mutability(
                "\"id\" is assigned by the server and cannot be changed.",
            ));
        }
    }
    let mut doc = Value::Object(doc);
    if !map.is_empty() {
        let replace = PatchOp {
            op: PatchOpKind::Replace,
            path: None,
            value: Some(Value::Object(map)),
        };
        apply(&mut doc, kind, std::slice::from_ref(&replace))?;
    }
    if let Some(map) = doc.as_object_mut() {
        map.remove("id");
    }
    Ok((doc, members))
}

/// Removes every spelling of `key` (case-insensitive) and returns the last value.
fn take_ci(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    let keys: Vec<String> = map
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(key))
        .cloned()
        .collect();
    keys.into_iter().filter_map(|k| map.remove(&k)).last()
}

/// The columns of a user document. `userName` is required; the password and every other
/// secret attribute of the schemas are dropped (never stored).
pub fn user_fields(mut doc: Value) -> Result<UserFields, ScimError> {
    scim_protocol::redact::strip_secrets(ResourceKind::User, &mut doc);
    Ok(UserFields::from_document(doc)?)
}

/// The columns of a group document. `displayName` is required; secret attributes are dropped.
pub fn group_fields(mut doc: Value) -> Result<GroupFields, ScimError> {
    scim_protocol::redact::strip_secrets(ResourceKind::Group, &mut doc);
    Ok(GroupFields::from_document(doc)?)
}

/// Where resources of one tenant live: `{public}/scim/v2/{tenant}`.
#[derive(Debug, Clone)]
pub struct Locations {
    base: String,
}

impl Locations {
    /// The locations of `tenant`'s resources under `tenant_url`.
    pub fn new(tenant_url: String) -> Self {
        Self { base: tenant_url }
    }

    /// `…/Users/{id}` or `…/Groups/{id}`.
    pub fn resource(&self, kind: ResourceKind, id: &str) -> String {
        match kind {
            ResourceKind::User => format!("{}/Users/{id}", self.base),
            ResourceKind::Group => format!("{}/Groups/{id}", self.base),
        }
    }

    /// A path below the tenant base, e.g. `/Schemas/…`.
    pub fn below(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

/// A weak ETag from a row version (RFC 7644 §3.14).
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

fn meta(
    kind: ResourceKind,
    location: String,
    created: chrono::DateTime<chrono::Utc>,
    modified: chrono::DateTime<chrono::Utc>,
    version: i64,
) -> Value {
    json!({
        "resourceType": kind.name(),
        "created": created.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "lastModified": modified.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "location": location,
        "version": etag(version),
    })
}

/// A stored user as the wire representation. `groups` lists the user's groups.
pub fn render_user(row: UserRow, groups: &[(GroupId, String)], locations: &Locations) -> Value {
    let mut map = match row.attributes {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    set_schemas(&mut map, USER_SCHEMA);
    let id = row.id.to_string();
    map.insert("id".into(), Value::String(id.clone()));
    with_active_column(&mut map, row.active);
    if !groups.is_empty() {
        let list = groups
            .iter()
            .map(|(group, name)| {
                json!({
                    "value": group.to_string(),
                    "display": name,
                    "$ref": locations.resource(ResourceKind::Group, &group.to_string()),
                    "type": "direct",
                })
            })
            .collect();
        map.insert("groups".into(), Value::Array(list));
    }
    let location = locations.resource(ResourceKind::User, &id);
    map.insert(
        "meta".into(),
        meta(
            ResourceKind::User,
            location,
            row.created_at,
            row.updated_at,
            row.version,
        ),
    );
    Value::Object(map)
}

/// Brings the document's `active` in line with the column, which is authoritative (the console
/// can deactivate a user too). A user who never had `active`, or whose `active` was removed,
/// has it unassigned (RFC 7644 §3.5.2.2) and counts as active; a deactivated one always shows
/// `active: false`.
pub fn with_active_column(map: &mut Map<String, Value>, active: bool) {
    if !active || map.contains_key("active") {
        map.insert("active".into(), Value::Bool(active));
    }
}

/// A stored group as the wire representation; `members` is left out when `None` (not loaded).
pub fn render_group(row: &GroupRow, members: Option<&[MemberRow]>, locations: &Locations) -> Value {
    let mut map = match &row.attributes {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    set_schemas(&mut map, GROUP_SCHEMA);
    let id = row.id.to_string();
    map.insert("id".into(), Value::String(id.clone()));
    map.insert(
        "displayName".into(),
        Value::String(row.display_name.clone()),
    );
    if let Some(members) = members {
        let list = members
            .iter()
            .map(|m| {
                json!({
                    "value": m.user_id.to_string(),
                    "display": m.display,
                    "$ref": locations.resource(ResourceKind::User, &m.user_id.to_string()),
                    "type": "User",
                })
            })
            .collect();
        map.insert("members".into(), Value::Array(list));
    }
    let location = locations.resource(ResourceKind::Group, &id);
    map.insert(
        "meta".into(),
        meta(
            ResourceKind::Group,
            location,
            row.created_at,
            row.updated_at,
            row.version,
        ),
    );
    Value::Object(map)
}

/// Sets `schemas` to the core schema followed by every extension the resource carries data
/// for (an object under a URN key): the stored document does not keep `schemas`, and RFC 7643
/// §3 asks for each extension in use to be listed.
fn set_schemas(map: &mut Map<String, Value>, core: &str) {
    map.remove("schemas");
    let mut schemas = vec![Value::String(core.to_owned())];
    schemas.extend(
        map.iter()
            .filter(|(key, value)| {
                key.contains(':') && value.as_object().is_some_and(|obj| !obj.is_empty())
            })
            .map(|(key, _)| Value::String(key.clone())),
    );
    map.insert("schemas".into(), Value::Array(schemas));
}

/// The document a PATCH works on: the stored attributes plus the id (so that an `id` equal to
/// the current one is recognised) and, for groups, the displayName column.
pub fn patch_document(attributes: &Value, id: &str) -> Value {
    let mut map = match attributes {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    map.insert("id".into(), Value::String(id.to_owned()));
    Value::Object(map)
}

/// Parses member ids as sent; anything that is not a UUID cannot be a user of ours.
pub fn parse_member_ids(ids: &[String]) -> Result<Vec<tenancy::UserId>, ScimError> {
    let mut parsed = Vec::with_capacity(ids.len());
    let mut bad = Vec::new();
    for id in ids {
        match id.parse() {
            Ok(user) => parsed.push(user),
            Err(_) => bad.push(id.as_str()),
        }
    }
    if bad.is_empty() {
        Ok(parsed)
    } else {
        Err(unknown_members(&bad))
    }
}

/// 400 `invalidValue` naming member ids that are not users of the tenant.
pub fn unknown_members(ids: &[&str]) -> ScimError {
    let shown: Vec<String> = ids.iter().take(10).map(|id| format!("\"{id}\"")).collect();
    let more = if ids.len() > 10 {
        format!(" and {} more", ids.len() - 10)
    } else {
        String::new()
    };
    ScimError::invalid_value(format!(
        "These member values are not users of this tenant: {}{more}. Nothing was changed.",
        shown.join(", ")
    ))
}

/// Members from a POST/PUT `members` value: an array of `{"value": id}` (bare ids accepted).
pub fn members_from_value(value: Option<Value>) -> Result<Vec<String>, ScimError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = value else {
        if value.is_null() {
            return Ok(Vec::new());
        }
        return Err(ScimError::invalid_value(
            "\"members\" must be an array of {\"value\": \"<user id>\"}.",
        ));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(id) => Ok(id),
            Value::Object(map) => map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("value"))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_owned)
                .ok_or_else(|| {
                    ScimError::invalid_value("Each member needs a \"value\" with the user's id.")
                }),
            _ => Err(ScimError::invalid_value(
                "Each member must be an object with a \"value\".",
            )),
        })
        .collect()
}
