//! Admin rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::ids::{AdminId, TenantId, UserId};
use crate::schema::admins;
use crate::stored::AdminRole;

/// An administrator as stored. `Debug` leaves the password hash out.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = admins, check_for_backend(diesel::pg::Pg))]
pub struct AdminRow {
    /// The tenant the admin administers (and only that one).
    pub tenant_id: TenantId,
    /// The admin's id.
    pub id: AdminId,
    /// Sign-in email, unique per tenant regardless of case.
    pub email: String,
    /// argon2id PHC string; `None` for an admin who signs in through the identity provider.
    pub password_hash: Option<String>,
    /// Set for one-time passwords: the admin must choose a password on first sign-in.
    pub must_change_password: bool,
    /// Consecutive failed sign-ins, for back-off.
    pub failed_logins: i32,
    /// No sign-in is accepted before this time.
    pub locked_until: Option<DateTime<Utc>>,
    /// When the admin was created.
    pub created_at: DateTime<Utc>,
    /// When the row last changed.
    pub updated_at: DateTime<Utc>,
    /// What the admin may do. For a provider admin, as last derived from their groups: the
    /// console derives it again on every request.
    pub role: AdminRole,
    /// The provisioned user a provider admin is; `None` for password admins.
    pub user_id: Option<UserId>,
    /// The TOTP secret, sealed (see [`crate::sealed`]); set once enrolment started.
    pub totp_secret: Option<String>,
    /// When a code from the secret was first confirmed: from then on sign-in asks for one.
    pub totp_enabled_at: Option<DateTime<Utc>>,
    /// The newest TOTP time step accepted: an older or equal one is a replay.
    pub totp_last_step: Option<i64>,
}

impl AdminRow {
    /// Whether the admin signs in through the tenant's identity provider.
    pub fn signs_in_with_provider(&self) -> bool {
        self.user_id.is_some()
    }

    /// Whether sign-in asks this admin for a TOTP code.
    pub fn has_mfa(&self) -> bool {
        self.totp_enabled_at.is_some()
    }
}

/// What a sealed TOTP secret is bound to: its column and its admin.
pub(crate) fn totp_secret_owner(tenant: TenantId, admin: AdminId) -> String {
    format!("admins.totp_secret:{tenant}:{admin}")
}

impl std::fmt::Debug for AdminRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminRow")
            .field("tenant_id", &self.tenant_id)
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("user_id", &self.user_id)
            .field("totp_enabled_at", &self.totp_enabled_at)
            .field("must_change_password", &self.must_change_password)
            .finish_non_exhaustive()
    }
}

#[derive(Insertable)]
#[diesel(table_name = admins)]
pub(crate) struct AdminInsert<'a> {
    pub tenant_id: TenantId,
    pub id: AdminId,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub must_change_password: bool,
    pub role: AdminRole,
}
