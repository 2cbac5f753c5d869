//! Pausing a tenant's provisioning (SCIM answers 503 with `Retry-After` until resumed) and
//! revoking every token of the tenant at once. Both announce the change, so that no server goes
//! on accepting a remembered token.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::{Actor, record_admin_action};
use crate::error::Result;
use crate::ids::TenantId;
use crate::schema::{scim_tokens, tenants};
use crate::stored::AuditAction;
use crate::stored::RevokedReason;

/// Seconds an identity provider is asked to wait before it retries a paused tenant.
pub const PAUSED_RETRY_AFTER_SECONDS: u64 = 300;

/// Pauses provisioning. Whether it was running (pausing twice changes nothing).
pub fn pause(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    set_paused(conn, tenant, true, actor, now)
}

/// Resumes provisioning. Whether it was paused.
pub fn resume(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    set_paused(conn, tenant, false, actor, now)
}

/// Pauses or resumes; whether that changed anything. A change is announced (every server
/// reads the pause with the token) and recorded.
fn set_paused(
    conn: &mut PgConnection,
    tenant: TenantId,
    paused: bool,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    crate::transaction(conn, |conn| {
        let target = tenants::table.find(tenant);
        let changed = if paused {
            diesel::update(target)
                .filter(tenants::provisioning_paused_at.is_null())
                .set((
                    tenants::provisioning_paused_at.eq(Some(now)),
                    tenants::provisioning_paused_by.eq(Some(actor.name())),
                ))
                .execute(conn)?
        } else {
            diesel::update(target)
                .filter(tenants::provisioning_paused_at.is_not_null())
                .set((
                    tenants::provisioning_paused_at.eq(None::<DateTime<Utc>>),
                    tenants::provisioning_paused_by.eq(None::<&str>),
                ))
                .execute(conn)?
        } == 1;
        if changed {
            crate::scim_tokens::announce(conn, tenant)?;
            let (action, words) = if paused {
                (AuditAction::ProvisioningPaused, "Paused provisioning")
            } else {
                (AuditAction::ProvisioningResumed, "Resumed provisioning")
            };
            record_admin_action(conn, tenant, actor, action, words, None, json!({}), now)?;
        }
        Ok(changed)
    })
}

/// Revokes every token of the tenant that still works (the connection test's included), in
/// one statement, and announces it. How many were revoked.
pub fn revoke_all(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<usize> {
    crate::transaction(conn, |conn| {
        let revoked = diesel::update(
            scim_tokens::table
                .filter(scim_tokens::tenant_id.eq(tenant))
                .filter(scim_tokens::revoked_at.is_null())
                .filter(scim_tokens::expires_at.gt(now)),
        )
        .set((
            scim_tokens::revoked_at.eq(now),
            scim_tokens::revoked_reason.eq(RevokedReason::Revoked),
        ))
        .execute(conn)?;
        crate::scim_tokens::announce(conn, tenant)?;
        record_admin_action(
            conn,
            tenant,
            actor,
            AuditAction::TokensRevokedAll,
            "Revoked all tokens",
            None,
            json!({"revoked": revoked}),
            now,
        )?;
        Ok(revoked)
    })
}
