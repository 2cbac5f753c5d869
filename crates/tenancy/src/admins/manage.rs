//! Managing a tenant's admins: the list, role changes and removal, each with its audit entry,
//! and the rule that a tenant always keeps an owner.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::model::AdminRow;
use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::ids::{AdminId, TenantId};
use crate::schema::{admin_emails, admins};
use crate::stored::{AdminRole, AuditAction};

/// The tenant's admins, oldest first.
pub fn list(conn: &mut PgConnection, tenant: TenantId) -> Result<Vec<AdminRow>> {
    Ok(admins::table
        .filter(admins::tenant_id.eq(tenant))
        .order((admins::created_at.asc(), admins::id.asc()))
        .select(AdminRow::as_select())
        .load(conn)?)
}

/// Locks the tenant's password owners (so two owners demoting each other at once cannot leave
/// none) and returns how many there are. Owners through the identity provider do not count:
/// they come and go with their groups, and the tenant must keep a way in without the provider.
fn lock_owners(conn: &mut PgConnection, tenant: TenantId) -> Result<usize> {
    let owners: Vec<AdminId> = admins::table
        .filter(admins::tenant_id.eq(tenant))
        .filter(admins::role.eq(AdminRole::Owner))
        .filter(admins::user_id.is_null())
        .select(admins::id)
        .for_update()
        .load(conn)?;
    Ok(owners.len())
}

/// What leaving the tenant without `admin` as an owner would break, in words.
fn keeps_an_owner(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: &AdminRow,
    what: &str,
) -> Result<()> {
    if admin.role == AdminRole::Owner
        && !admin.signs_in_with_provider()
        && lock_owners(conn, tenant)? <= 1
    {
        return Err(Error::Invalid(format!(
            "{} is the organisation's only owner and cannot be {what}. Make another admin an owner first.",
            admin.email
        )));
    }
    Ok(())
}

/// Gives `admin` the role `role`; the last owner keeps theirs. Their sessions stay: every
/// request reads the role afresh.
pub fn set_role(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    role: AdminRole,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<AdminRow> {
    crate::db::transaction(conn, |conn| {
        let before = super::find(conn, tenant, admin)?;
        if before.signs_in_with_provider() {
            return Err(Error::Invalid(format!(
                "{} signs in through the identity provider: their role comes from their groups. Change the groups' roles, or their groups at the provider.",
                before.email
            )));
        }
        if before.role == role {
            return Ok(before);
        }
        if role != AdminRole::Owner {
            keeps_an_owner(conn, tenant, &before, "demoted")?;
        }
        let row = diesel::update(admins::table.find((tenant, admin)))
            .set((admins::role.eq(role), admins::updated_at.eq(now)))
            .returning(AdminRow::as_returning())
            .get_result(conn)?;
        audit::record(
            conn,
            tenant,
            actor,
            AuditAction::AdminRoleChanged,
            Some(&row.email),
            json!({ "before": before.role, "after": role }),
            now,
        )?;
        Ok(row)
    })
}

/// Removes `admin`: their sessions end with them (the foreign key), at once. The last owner
/// cannot be removed.
pub fn remove(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<AdminRow> {
    crate::db::transaction(conn, |conn| {
        let row = super::find(conn, tenant, admin)?;
        keeps_an_owner(conn, tenant, &row, "removed")?;
        diesel::delete(
            admin_emails::table
                .filter(admin_emails::tenant_id.eq(tenant))
                .filter(admin_emails::admin_id.eq(admin)),
        )
        .execute(conn)?;
        diesel::delete(admins::table.find((tenant, admin))).execute(conn)?;
        audit::record(
            conn,
            tenant,
            actor,
            AuditAction::AdminRemoved,
            Some(&row.email),
            json!({ "role": row.role }),
            now,
        )?;
        Ok(row)
    })
}
