//! Reading and writing admin rows.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::model::{AdminInsert, AdminRow};
use crate::error::{Error, Result};
use crate::ids::{AdminId, TenantId};
use crate::password::{hash_password, one_time_password};
use crate::schema::admins;

/// Creates an admin with a fresh one-time password, which is returned once and must be changed
/// at first sign-in. Hashes with argon2: call it on the blocking pool.
pub fn create_with_one_time_password(
    conn: &mut PgConnection,
    tenant: TenantId,
    email: &str,
) -> Result<(AdminRow, String)> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.contains(char::is_whitespace);
    if !valid {
        return Err(Error::Invalid(format!(
            "{email:?} is not an email address."
        )));
    }
    let password = one_time_password();
    let hash = hash_password(&password)?;
    let row = diesel::insert_into(admins::table)
        .values(&AdminInsert {
            tenant_id: tenant,
            id: AdminId::new_random(),
            email,
            password_hash: &hash,
            must_change_password: true,
        })
        .returning(AdminRow::as_returning())
        .get_result(conn)?;
    Ok((row, password))
}

/// The admin with this id in this tenant.
pub fn find(conn: &mut PgConnection, tenant: TenantId, admin: AdminId) -> Result<AdminRow> {
    Ok(admins::table
        .find((tenant, admin))
        .select(AdminRow::as_select())
        .first(conn)?)
}

/// Every admin, across tenants, with this email (case-insensitive). Sign-in does not ask for a
/// tenant, so one email may match an admin in several tenants.
pub fn find_by_email(conn: &mut PgConnection, email: &str) -> Result<Vec<AdminRow>> {
    diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
    Ok(admins::table
        .filter(lower(admins::email).eq(email.trim().to_lowercase()))
        .order(admins::created_at.asc())
        .select(AdminRow::as_select())
        .load(conn)?)
}

/// Failed sign-ins tolerated before the account is locked for a while.
pub const FREE_ATTEMPTS: i32 = 5;

/// How long an account stays locked after `failed` consecutive failures: 30 s doubling with each
/// further failure, at most 15 minutes.
pub fn lockout_for(failed: i32) -> Option<Duration> {
    let over = failed - FREE_ATTEMPTS;
    (over >= 0).then(|| Duration::seconds((30_i64 << over.min(5)).min(15 * 60)))
}

/// Counts a failed sign-in and locks the account when the free attempts are used up.
pub fn record_failed_login(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    now: DateTime<Utc>,
) -> Result<AdminRow> {
    conn.transaction(|conn| {
        let row: AdminRow = admins::table
            .find((tenant, admin))
            .select(AdminRow::as_select())
            .for_update()
            .first(conn)?;
        let failed = row.failed_logins.saturating_add(1);
        let locked_until = lockout_for(failed).map(|d| now + d);
        Ok(diesel::update(admins::table.find((tenant, admin)))
            .set((
                admins::failed_logins.eq(failed),
                admins::locked_until.eq(locked_until),
            ))
            .returning(AdminRow::as_returning())
            .get_result(conn)?)
    })
}

/// Clears the failure count after a successful sign-in.
pub fn record_successful_login(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
) -> Result<()> {
    diesel::update(admins::table.find((tenant, admin)))
        .set((
            admins::failed_logins.eq(0),
            admins::locked_until.eq(None::<DateTime<Utc>>),
        ))
        .execute(conn)?;
    Ok(())
}

/// Sets a new password (already checked and hashed) and clears the one-time flag.
pub fn set_password_hash(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    hash: &str,
    now: DateTime<Utc>,
) -> Result<AdminRow> {
    Ok(diesel::update(admins::table.find((tenant, admin)))
        .set((
            admins::password_hash.eq(hash),
            admins::must_change_password.eq(false),
            admins::updated_at.eq(now),
        ))
        .returning(AdminRow::as_returning())
        .get_result(conn)?)
}
