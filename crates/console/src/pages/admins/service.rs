//! The Admins page's units of work: the admins and pending invitations in one read, and each
//! change (invite, withdraw, role, removal) in one transaction with its audit entry. No HTTP
//! types: tests call these directly.

use chrono::{DateTime, Utc};
use tenancy::admins::invitations::{self, InvitationRow};
use tenancy::admins::provider::{self, ConsolePolicy, GroupRole};
use tenancy::admins::{self, AdminRow, mfa};
use tenancy::audit::Actor;
use tenancy::stored::AdminRole;
use tenancy::{AdminId, Db, GroupId, InvitationId, TenantId};

use crate::error::ConsoleError;

/// What the page lists.
#[derive(Debug, Clone)]
pub struct AdminsState {
    /// The admins, oldest first.
    pub admins: Vec<AdminRow>,
    /// Invitations not yet accepted, newest first.
    pub invitations: Vec<InvitationRow>,
    /// The groups that grant a console role.
    pub group_roles: Vec<GroupRole>,
}

/// The admins and the pending invitations.
pub async fn load(
    db: &Db,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<AdminsState, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            Ok(AdminsState {
                admins: admins::list(conn, tenant)?,
                invitations: invitations::pending(conn, tenant, now)?,
                group_roles: provider::group_roles(conn, tenant)?,
            })
        })
        .await?)
}

/// A refusal in words for the page (the last owner, an address already an admin…), or a
/// failure.
pub enum Outcome<T> {
    /// Done.
    Done(T),
    /// Refused, with the reason.
    Refused(String),
}

fn outcome<T>(result: Result<T, tenancy::Error>) -> Result<Outcome<T>, ConsoleError> {
    match result {
        Ok(value) => Ok(Outcome::Done(value)),
        Err(tenancy::Error::Invalid(message)) => Ok(Outcome::Refused(message)),
        Err(other) => Err(other.into()),
    }
}

/// Invites `email` as `role`: the invitation and its link's token.
pub async fn invite(
    db: &Db,
    tenant: TenantId,
    email: String,
    role: AdminRole,
    actor: Actor,
) -> Result<Outcome<(InvitationRow, String)>, ConsoleError> {
    outcome(
        db.run(tenant, move |conn| {
            invitations::invite(conn, tenant, &email, role, &actor, Utc::now())
        })
        .await,
    )
}

/// Withdraws a pending invitation.
pub async fn revoke_invitation(
    db: &Db,
    tenant: TenantId,
    invitation: InvitationId,
    actor: Actor,
) -> Result<InvitationRow, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            invitations::revoke(conn, tenant, invitation, &actor, Utc::now())
        })
        .await?)
}

/// Changes an admin's role.
pub async fn set_role(
    db: &Db,
    tenant: TenantId,
    admin: AdminId,
    role: AdminRole,
    actor: Actor,
) -> Result<Outcome<AdminRow>, ConsoleError> {
    outcome(
        db.run(tenant, move |conn| {
            admins::set_role(conn, tenant, admin, role, &actor, Utc::now())
        })
        .await,
    )
}

/// Removes an admin (their sessions end with them).
pub async fn remove(
    db: &Db,
    tenant: TenantId,
    admin: AdminId,
    actor: Actor,
) -> Result<Outcome<AdminRow>, ConsoleError> {
    outcome(
        db.run(tenant, move |conn| {
            admins::remove(conn, tenant, admin, &actor, Utc::now())
        })
        .await,
    )
}

/// Sets how admins sign in to the console.
pub async fn set_policy(
    db: &Db,
    tenant: TenantId,
    policy: ConsolePolicy,
    actor: Actor,
) -> Result<Outcome<()>, ConsoleError> {
    outcome(
        db.run(tenant, move |conn| {
            provider::set_policy(conn, tenant, &policy, &actor, Utc::now()).map(|_| ())
        })
        .await,
    )
}

/// Lets the group named `group_name` grant `role`.
pub async fn grant(
    db: &Db,
    tenant: TenantId,
    group_name: String,
    role: AdminRole,
    actor: Actor,
) -> Result<Outcome<GroupRole>, ConsoleError> {
    outcome(
        db.run(tenant, move |conn| {
            provider::grant(conn, tenant, &group_name, role, &actor, Utc::now())
        })
        .await,
    )
}

/// Stops a group granting a role; `None` when it granted none.
pub async fn withdraw_grant(
    db: &Db,
    tenant: TenantId,
    group: GroupId,
    actor: Actor,
) -> Result<Option<GroupRole>, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            provider::withdraw(conn, tenant, group, &actor, Utc::now())
        })
        .await?)
}

/// Turns another admin's two-step sign-in off (a lost phone): they set it up again at their
/// next sign-in where the organisation requires it.
pub async fn reset_mfa(
    db: &Db,
    tenant: TenantId,
    admin: AdminId,
    actor: Actor,
) -> Result<AdminRow, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            mfa::disable(conn, tenant, admin, &actor, Utc::now())?;
            admins::find(conn, tenant, admin)
        })
        .await?)
}
