//! Admin rows.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::ids::{AdminId, TenantId};
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
    /// argon2id PHC string.
    pub password_hash: String,
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
    /// What the admin may do.
    pub role: AdminRole,
}

impl std::fmt::Debug for AdminRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminRow")
            .field("tenant_id", &self.tenant_id)
            .field("id", &self.id)
            .field("email", &self.email)
            .field("role", &self.role)
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
    pub password_hash: &'a str,
    pub must_change_password: bool,
    pub role: AdminRole,
}
