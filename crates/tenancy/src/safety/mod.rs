//! Safe provisioning: pausing a tenant's provisioning and revoking all its tokens at once
//! ([`pause`]), deletion that can be undone ([`deleted`]), the deprovisioning circuit breaker
//! ([`breaker`]), the reviewed adoption of users SCIM does not manage ([`adoption`]) and the
//! shadow go-live ([`shadow`]). Every
//! admin action here is recorded in the activity log by [`record_admin_action`], in the same
//! unit of work as the action.

pub mod adoption;
pub mod breaker;
pub mod deleted;
pub mod pause;
pub mod shadow;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::error::Result;
use crate::events::{self, NewEvent};
use crate::ids::TenantId;
use crate::stored::{AuditAction, EventOperation};

/// Who did it: the console's admin (or the operator), and from where.
pub type Actor<'a> = &'a crate::audit::Actor;

/// An admin's provisioning action as an activity-log event: method `CONSOLE`, the action in
/// words as its path, the admin as its subject and `details` (if any) as its payload.
pub fn admin_event(
    tenant: TenantId,
    actor: Actor<'_>,
    words: &str,
    resource: Option<(&str, String)>,
    details: Option<Value>,
    now: DateTime<Utc>,
) -> NewEvent {
    let (resource_type, resource_id) = match resource {
        Some((kind, id)) => (Some(kind.to_owned()), Some(id)),
        None => (None, None),
    };
    NewEvent {
        tenant_id: tenant,
        occurred_at: now,
        method: "CONSOLE".into(),
        path: words.to_owned(),
        status: 200,
        resource_type,
        resource_id,
        token_id: None,
        duration_us: 0,
        error: None,
        payload: details,
        operation: EventOperation::Admin,
        subject: Some(actor.name().to_owned()),
        response: None,
    }
    .storable()
}

/// Records an admin's provisioning action in the tenant's activity log ([`admin_event`]) and
/// in its audit log as `action`, on the action's connection.
#[expect(
    clippy::too_many_arguments,
    reason = "an action, its actor, its words and its resource: each a different thing"
)]
pub fn record_admin_action(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    actor: Actor<'_>,
    action: AuditAction,
    words: &str,
    resource: Option<(&str, String)>,
    details: Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let target = resource.as_ref().map(|(_, id)| id.clone());
    let mut audited = serde_json::json!({ "what": words });
    if let (Value::Object(into), Value::Object(from)) = (&mut audited, &details) {
        into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    let event = admin_event(tenant, actor, words, resource, Some(details), now);
    events::insert_many(conn, &[event])?;
    crate::audit::record(conn, tenant, actor, action, target.as_deref(), audited, now)
}
