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
use crate::stored::EventOperation;

/// Who did it: an admin's e-mail address for the console's actions.
pub type Actor<'a> = &'a str;

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
        subject: Some(actor.to_owned()),
        response: None,
    }
    .storable()
}

/// Records an admin's provisioning action in the tenant's activity log ([`admin_event`]).
pub fn record_admin_action(
    conn: &mut diesel::PgConnection,
    tenant: TenantId,
    actor: Actor<'_>,
    words: &str,
    resource: Option<(&str, String)>,
    details: Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let event = admin_event(tenant, actor, words, resource, Some(details), now);
    events::insert_many(conn, &[event])?;
    Ok(())
}
