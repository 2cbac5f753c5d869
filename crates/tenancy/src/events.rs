//! The provisioning activity log: one row per authenticated SCIM request.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::error::Result;
use crate::ids::{TenantId, TokenId};
use crate::schema::provisioning_events;

/// An event to record. The payload must already have its secrets removed.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = provisioning_events)]
pub struct NewEvent {
    /// The tenant.
    pub tenant_id: TenantId,
    /// When the request arrived.
    pub occurred_at: DateTime<Utc>,
    /// HTTP method.
    pub method: String,
    /// Path below the tenant's SCIM base, with the query string.
    pub path: String,
    /// HTTP status answered.
    pub status: i16,
    /// `User`, `Group`, or a discovery resource.
    pub resource_type: Option<String>,
    /// The resource's id, when one was addressed or created.
    pub resource_id: Option<String>,
    /// The token that authenticated the request.
    pub token_id: Option<TokenId>,
    /// Time to answer, in microseconds.
    pub duration_us: i64,
    /// What went wrong, in plain words.
    pub error: Option<String>,
    /// The request body, redacted.
    pub payload: Option<Value>,
}

/// Records events in one multi-row INSERT.
pub fn insert_many(conn: &mut PgConnection, events: &[NewEvent]) -> Result<usize> {
    if events.is_empty() {
        return Ok(0);
    }
    Ok(diesel::insert_into(provisioning_events::table)
        .values(events)
        .execute(conn)?)
}
