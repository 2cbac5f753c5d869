//! Invitations to become an admin: a link valid for seven days and used once. The link carries
//! `<tenant id>.<secret>`; only the SHA-256 of the secret is kept, so the database never holds a
//! usable link.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::json;

use super::model::AdminRow;
use super::repo::{checked_email, insert};
use crate::audit::{self, Actor};
use crate::db::lower;
use crate::error::{Error, Result};
use crate::ids::{InvitationId, TenantId};
use crate::schema::{admin_invitations, admins};
use crate::secret::{random_alphanumeric, sha256};
use crate::stored::{AdminRole, AuditAction};

/// How long an invitation link can be used.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);

/// An invitation as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = admin_invitations, check_for_backend(diesel::pg::Pg))]
pub struct InvitationRow {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The invitation.
    pub id: InvitationId,
    /// Who is invited.
    pub email: String,
    /// The role they will have.
    pub role: AdminRole,
    /// SHA-256 of the link's secret.
    pub token_hash: Vec<u8>,
    /// The inviting admin's address (or `operator`).
    pub invited_by: String,
    /// When it was sent.
    pub created_at: DateTime<Utc>,
    /// The link works until then.
    pub expires_at: DateTime<Utc>,
    /// When it was used.
    pub accepted_at: Option<DateTime<Utc>>,
    /// When it was withdrawn (or replaced by a newer one for the same address).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What an invitation link leads to.
#[derive(Debug, Clone)]
pub enum Invitation {
    /// It can be accepted.
    Open(InvitationRow),
    /// Its seven days are over.
    Expired,
    /// It was used already.
    Used,
    /// It was withdrawn or replaced.
    Withdrawn,
}

/// Invites `email` as `role`: returns the invitation and its link's token (shown once). A
/// pending invitation of the same address is replaced; an address that is an admin already is
/// refused in words.
pub fn invite(
    conn: &mut PgConnection,
    tenant: TenantId,
    email: &str,
    role: AdminRole,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(InvitationRow, String)> {
    let email = checked_email(email)?.to_owned();
    crate::db::transaction(conn, |conn| {
        // Only password admins count: someone who signs in through the identity provider may
        // also be given a password account (a break-glass owner).
        let existing: i64 = admins::table
            .filter(admins::tenant_id.eq(tenant))
            .filter(admins::user_id.is_null())
            .filter(lower(admins::email).eq(email.to_lowercase()))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Err(Error::Invalid(format!(
                "{email} is already an admin of this organisation."
            )));
        }
        diesel::update(
            admin_invitations::table
                .filter(admin_invitations::tenant_id.eq(tenant))
                .filter(lower(admin_invitations::email).eq(email.to_lowercase()))
                .filter(admin_invitations::accepted_at.is_null())
                .filter(admin_invitations::revoked_at.is_null()),
        )
        .set(admin_invitations::revoked_at.eq(now))
        .execute(conn)?;
        let secret = random_alphanumeric(43);
        let row = diesel::insert_into(admin_invitations::table)
            .values((
                admin_invitations::tenant_id.eq(tenant),
                admin_invitations::id.eq(InvitationId::new_random()),
                admin_invitations::email.eq(&email),
                admin_invitations::role.eq(role),
                admin_invitations::token_hash.eq(&sha256(&secret)[..]),
                admin_invitations::invited_by.eq(&actor.email),
                admin_invitations::created_at.eq(now),
                admin_invitations::expires_at.eq(now + INVITATION_LIFETIME),
            ))
            .returning(InvitationRow::as_returning())
            .get_result(conn)?;
        audit::record(
            conn,
            tenant,
            actor,
            AuditAction::AdminInvited,
            Some(&email),
            json!({ "role": role, "expires_at": row.expires_at }),
            now,
        )?;
        Ok((row, format!("{tenant}.{secret}")))
    })
}

/// The invitations still waiting to be accepted, newest first.
pub fn pending(
    conn: &mut PgConnection,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<Vec<InvitationRow>> {
    Ok(admin_invitations::table
        .filter(admin_invitations::tenant_id.eq(tenant))
        .filter(admin_invitations::accepted_at.is_null())
        .filter(admin_invitations::revoked_at.is_null())
        .filter(admin_invitations::expires_at.gt(now))
        .order(admin_invitations::created_at.desc())
        .select(InvitationRow::as_select())
        .load(conn)?)
}

/// Withdraws a pending invitation: its link stops working.
pub fn revoke(
    conn: &mut PgConnection,
    tenant: TenantId,
    invitation: InvitationId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<InvitationRow> {
    crate::db::transaction(conn, |conn| {
        let row = diesel::update(
            admin_invitations::table
                .find((tenant, invitation))
                .filter(admin_invitations::accepted_at.is_null())
                .filter(admin_invitations::revoked_at.is_null()),
        )
        .set(admin_invitations::revoked_at.eq(now))
        .returning(InvitationRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or(Error::NotFound)?;
        audit::record(
            conn,
            tenant,
            actor,
            AuditAction::InvitationRevoked,
            Some(&row.email),
            json!({ "role": row.role }),
            now,
        )?;
        Ok(row)
    })
}

/// The tenant an invitation token names (not proof of anything: [`open`] checks the secret).
pub fn tenant_of(token: &str) -> Option<TenantId> {
    parse(token).map(|(tenant, _)| tenant)
}

fn parse(token: &str) -> Option<(TenantId, [u8; 32])> {
    let (tenant, secret) = token.split_once('.')?;
    let tenant = tenant.parse().ok()?;
    (secret.len() == 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| (tenant, sha256(secret)))
}

/// What the link `token` leads to; `None` when it names no invitation (of its tenant).
pub fn open(
    conn: &mut PgConnection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<Invitation>> {
    find(conn, token, now, false)
}

fn find(
    conn: &mut PgConnection,
    token: &str,
    now: DateTime<Utc>,
    lock: bool,
) -> Result<Option<Invitation>> {
    let Some((tenant, hash)) = parse(token) else {
        return Ok(None);
    };
    let query = admin_invitations::table
        .filter(admin_invitations::tenant_id.eq(tenant))
        .filter(admin_invitations::token_hash.eq(&hash[..]))
        .select(InvitationRow::as_select());
    let row = if lock {
        query.for_update().first(conn).optional()?
    } else {
        query.first(conn).optional()?
    };
    Ok(row.map(|row| {
        if row.accepted_at.is_some() {
            Invitation::Used
        } else if row.revoked_at.is_some() {
            Invitation::Withdrawn
        } else if row.expires_at <= now {
            Invitation::Expired
        } else {
            Invitation::Open(row)
        }
    }))
}

/// Accepts the invitation of `token` with a password already checked and hashed: the admin is
/// created with the invited role, the link is spent and the audit log says so, all at once.
/// `from` says where the acceptance came from (its `email` is ignored: the invitation names
/// the admin).
pub fn accept(
    conn: &mut PgConnection,
    token: &str,
    password_hash: &str,
    from: &Actor,
    now: DateTime<Utc>,
) -> Result<AdminRow> {
    crate::db::transaction(conn, |conn| {
        let invitation = match find(conn, token, now, true)? {
            Some(Invitation::Open(row)) => row,
            Some(Invitation::Expired) => {
                return Err(Error::Invalid(
                    "This invitation has expired. Ask an owner of the organisation for a new one."
                        .into(),
                ));
            }
            Some(Invitation::Used) => {
                return Err(Error::Invalid(
                    "This invitation has been used already. Sign in instead.".into(),
                ));
            }
            Some(Invitation::Withdrawn) | None => return Err(Error::NotFound),
        };
        let tenant = invitation.tenant_id;
        let admin = insert(
            conn,
            tenant,
            &invitation.email,
            password_hash,
            false,
            invitation.role,
        )?;
        diesel::update(admin_invitations::table.find((tenant, invitation.id)))
            .set(admin_invitations::accepted_at.eq(now))
            .execute(conn)?;
        let actor = Actor {
            admin: Some(admin.id),
            email: admin.email.clone(),
            ..from.clone()
        };
        audit::record(
            conn,
            tenant,
            &actor,
            AuditAction::InvitationAccepted,
            Some(&admin.email),
            json!({ "role": admin.role, "invited_by": invitation.invited_by }),
            now,
        )?;
        Ok(admin)
    })
}
