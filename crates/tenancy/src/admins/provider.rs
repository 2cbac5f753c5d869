//! Console sign-in through the tenant's identity provider: which groups (pushed over SCIM)
//! grant which console role, the tenant's console sign-in policy, and the admin row of a
//! provisioned user, whose role is derived from their groups again on every request.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::model::{AdminInsert, AdminRow};
use crate::audit::{self, Actor};
use crate::directory::groups;
use crate::directory::users::UserRow;
use crate::error::{Error, Result};
use crate::ids::{AdminId, GroupId, TenantId, UserId};
use crate::schema::{admins, console_group_roles, group_members, groups as groups_table, tenants};
use crate::stored::{AdminRole, AuditAction, PasswordSignIn};
use crate::tenants::TenantRow;

/// A group that grants a console role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRole {
    /// The group.
    pub group_id: GroupId,
    /// Its display name.
    pub group_name: String,
    /// The role its members get.
    pub role: AdminRole,
}

/// The groups that grant a console role, highest role first, then by name.
pub fn group_roles(conn: &mut PgConnection, tenant: TenantId) -> Result<Vec<GroupRole>> {
    let rows: Vec<(GroupId, String, AdminRole)> = console_group_roles::table
        .inner_join(
            groups_table::table.on(groups_table::tenant_id
                .eq(console_group_roles::tenant_id)
                .and(groups_table::id.eq(console_group_roles::group_id))),
        )
        .filter(console_group_roles::tenant_id.eq(tenant))
        .select((
            console_group_roles::group_id,
            groups_table::display_name,
            console_group_roles::role,
        ))
        .load(conn)?;
    let mut roles: Vec<GroupRole> = rows
        .into_iter()
        .map(|(group_id, group_name, role)| GroupRole {
            group_id,
            group_name,
            role,
        })
        .collect();
    roles.sort_by(|a, b| {
        b.role
            .includes(a.role)
            .cmp(&a.role.includes(b.role))
            .then_with(|| {
                a.group_name
                    .to_lowercase()
                    .cmp(&b.group_name.to_lowercase())
            })
    });
    Ok(roles)
}

/// Lets the group named `group_name` (ignoring case) grant `role`, replacing the role it
/// granted before; with its audit entry. A name no group has is refused in words.
pub fn grant(
    conn: &mut PgConnection,
    tenant: TenantId,
    group_name: &str,
    role: AdminRole,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<GroupRole> {
    let group_name = group_name.trim();
    crate::db::transaction(conn, |conn| {
        let Some(group) = groups::find_by_name(conn, tenant, group_name)? else {
            return Err(Error::Invalid(format!(
                "No group is named {group_name:?}. Groups appear here once your identity provider pushes them."
            )));
        };
        diesel::insert_into(console_group_roles::table)
            .values((
                console_group_roles::tenant_id.eq(tenant),
                console_group_roles::group_id.eq(group.id),
                console_group_roles::role.eq(role),
                console_group_roles::created_at.eq(now),
            ))
            .on_conflict((
                console_group_roles::tenant_id,
                console_group_roles::group_id,
            ))
            .do_update()
            .set(console_group_roles::role.eq(role))
            .execute(conn)?;
        audit::record(
            conn,
            tenant,
            actor,
            AuditAction::GroupRoleChanged,
            Some(&group.display_name),
            json!({ "role": role }),
            now,
        )?;
        Ok(GroupRole {
            group_id: group.id,
            group_name: group.display_name,
            role,
        })
    })
}

/// Stops `group` granting a console role (its members lose it on their next request); with
/// its audit entry. `None` when it granted none.
pub fn withdraw(
    conn: &mut PgConnection,
    tenant: TenantId,
    group: GroupId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<GroupRole>> {
    crate::db::transaction(conn, |conn| {
        let Some(role) = group_roles(conn, tenant)?
            .into_iter()
            .find(|g| g.group_id == group)
        else {
            return Ok(None);
        };
        diesel::delete(console_group_roles::table.find((tenant, group))).execute(conn)?;
        audit::record(
            conn,
            tenant,
            actor,
            AuditAction::GroupRoleChanged,
            Some(&role.group_name),
            json!({ "role": null, "before": role.role }),
            now,
        )?;
        Ok(Some(role))
    })
}

/// The highest console role `user`'s groups grant; `None` when none of them grants one.
pub fn role_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
) -> Result<Option<AdminRole>> {
    let roles: Vec<AdminRole> = console_group_roles::table
        .filter(console_group_roles::tenant_id.eq(tenant))
        .filter(
            console_group_roles::group_id.eq_any(
                group_members::table
                    .filter(group_members::tenant_id.eq(tenant))
                    .filter(group_members::user_id.eq(user))
                    .select(group_members::group_id),
            ),
        )
        .select(console_group_roles::role)
        .load(conn)?;
    Ok(roles
        .into_iter()
        .reduce(|best, role| if best.includes(role) { best } else { role }))
}

/// The provisioned `user`'s admin row with `role` (what their groups grant now): created at
/// their first console sign-in, brought up to date at each later one.
pub fn admin_for_user(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: &UserRow,
    role: AdminRole,
    now: DateTime<Utc>,
) -> Result<AdminRow> {
    let email = user.email.clone().unwrap_or_else(|| user.user_name.clone());
    let existing = diesel::update(
        admins::table
            .filter(admins::tenant_id.eq(tenant))
            .filter(admins::user_id.eq(user.id)),
    )
    .set((
        admins::role.eq(role),
        admins::email.eq(&email),
        admins::updated_at.eq(now),
    ))
    .returning(AdminRow::as_returning())
    .get_result(conn)
    .optional()?;
    if let Some(admin) = existing {
        return Ok(admin);
    }
    // Not in the e-mail directory: that is for password sign-in, which this admin has not.
    Ok(diesel::insert_into(admins::table)
        .values((
            &AdminInsert {
                tenant_id: tenant,
                id: AdminId::new_random(),
                email: &email,
                password_hash: None,
                must_change_password: false,
                role,
            },
            admins::user_id.eq(user.id),
        ))
        .returning(AdminRow::as_returning())
        .get_result(conn)?)
}

/// Keeps the role a provider admin's groups grant now on their row, for the Admins page (the
/// console derives it on every request regardless).
pub fn remember_role(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    role: AdminRole,
) -> Result<()> {
    diesel::update(
        admins::table
            .find((tenant, admin))
            .filter(admins::user_id.is_not_null()),
    )
    .set(admins::role.eq(role))
    .execute(conn)?;
    Ok(())
}

/// How admins sign in to a tenant's console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConsolePolicy {
    /// Admins may sign in through the identity provider, with the role their groups grant.
    pub provider_sign_in: bool,
    /// Who may sign in with a password.
    pub password_sign_in: PasswordSignIn,
    /// Password admins must use a second factor.
    pub mfa_required: bool,
}

impl ConsolePolicy {
    /// The tenant's policy as stored.
    pub fn of(tenant: &TenantRow) -> Self {
        Self {
            provider_sign_in: tenant.console_provider_sign_in,
            password_sign_in: tenant.password_sign_in,
            mfa_required: tenant.mfa_required,
        }
    }

    /// Whether this password admin may sign in (or stay signed in) with their password.
    pub fn allows_password(&self, role: AdminRole) -> bool {
        self.password_sign_in == PasswordSignIn::Everyone || role == AdminRole::Owner
    }
}

/// Sets the tenant's console sign-in policy, with its audit entry (before and after). Turning
/// passwords off for all but owners, or the provider on, needs nothing else: sessions that the
/// new policy refuses end on their next request.
pub fn set_policy(
    conn: &mut PgConnection,
    tenant: TenantId,
    policy: &ConsolePolicy,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<TenantRow> {
    crate::db::transaction(conn, |conn| {
        let before = ConsolePolicy::of(&crate::tenants::find_for_update(conn, tenant)?);
        let row: TenantRow = diesel::update(tenants::table.find(tenant))
            .set((
                tenants::console_provider_sign_in.eq(policy.provider_sign_in),
                tenants::password_sign_in.eq(policy.password_sign_in),
                tenants::mfa_required.eq(policy.mfa_required),
                tenants::updated_at.eq(now),
            ))
            .returning(TenantRow::as_returning())
            .get_result(conn)?;
        if before != *policy {
            audit::record(
                conn,
                tenant,
                actor,
                AuditAction::ConsoleSignInChanged,
                None,
                json!({ "before": describe(&before), "after": describe(policy) }),
                now,
            )?;
        }
        Ok(row)
    })
}

fn describe(policy: &ConsolePolicy) -> serde_json::Value {
    json!({
        "identity_provider": policy.provider_sign_in,
        "password_sign_in": policy.password_sign_in,
        "mfa_required": policy.mfa_required,
    })
}

/// Whether a signed-in admin may go on using the console, checked on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Yes, with this role (for a provider admin, what their groups grant now).
    Granted(AdminRole),
    /// No: their sessions end, for this reason.
    Ended(Ended),
}

/// Why an admin's console access ended while signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// Sign-in through the identity provider was turned off.
    ProviderSignInOff,
    /// The provisioned user was deactivated or deleted.
    Deactivated,
    /// None of the user's groups grants a console role any more.
    NoGroup,
    /// Password sign-in was turned off for all but owners.
    PasswordsForOwnersOnly,
}

impl Ended {
    /// The reason in words, for the person whose access ended.
    pub fn message(self) -> &'static str {
        match self {
            Ended::ProviderSignInOff => {
                "Signing in to the console through your identity provider has been turned off for your organisation. Ask an owner if you need access."
            }
            Ended::Deactivated => {
                "Your account has been deactivated at your identity provider, so your console access ended."
            }
            Ended::NoGroup => {
                "You are no longer in a group that grants access to the console, so your access ended. Ask an owner or your identity provider's administrator if you need it."
            }
            Ended::PasswordsForOwnersOnly => {
                "Your organisation now signs in to the console through its identity provider; passwords are kept for owners. Sign in with your identity provider."
            }
        }
    }

    /// The reason for the audit log.
    pub fn reason(self) -> &'static str {
        match self {
            Ended::ProviderSignInOff => "identity provider sign-in is off",
            Ended::Deactivated => "the user is deactivated",
            Ended::NoGroup => "not in a group that grants a console role",
            Ended::PasswordsForOwnersOnly => "password sign-in is for owners only",
        }
    }
}

/// Whether `admin` may use `tenant`'s console now: a provider admin while sign-in through the
/// provider is on, their user is active and a group grants them a role (that role); a password
/// admin while the policy lets their role use a password.
pub fn console_access(
    conn: &mut PgConnection,
    tenant: &TenantRow,
    admin: &AdminRow,
) -> Result<Access> {
    let policy = ConsolePolicy::of(tenant);
    let Some(user) = admin.user_id else {
        return Ok(if policy.allows_password(admin.role) {
            Access::Granted(admin.role)
        } else {
            Access::Ended(Ended::PasswordsForOwnersOnly)
        });
    };
    if !policy.provider_sign_in {
        return Ok(Access::Ended(Ended::ProviderSignInOff));
    }
    let active = crate::directory::users::find(conn, tenant.id, user)?.is_some_and(|u| u.active);
    if !active {
        return Ok(Access::Ended(Ended::Deactivated));
    }
    Ok(match role_of(conn, tenant.id, user)? {
        Some(role) => Access::Granted(role),
        None => Access::Ended(Ended::NoGroup),
    })
}
