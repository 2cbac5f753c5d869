//! The Admins page's units of work: the admins and pending invitations in one read, and each
//! change (invite, withdraw, role, removal) in one transaction with its audit entry. No HTTP
//! types: tests call these directly.

use chrono::{DateTime, Utc};
use tenancy::admins::invitations::{self, InvitationRow};
use tenancy::admins::{self, AdminRow};
use tenancy::audit::Actor;
use tenancy::stored::AdminRole;
use tenancy::{AdminId, Db, InvitationId, TenantId};

use crate::error::ConsoleError;

/// What the page lists.
#[derive(Debug, Clone)]
pub struct AdminsState {
    /// The admins, oldest first.
    pub admins: Vec<AdminRow>,
    /// Invitations not yet accepted, newest first.
    pub invitations: Vec<InvitationRow>,
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
