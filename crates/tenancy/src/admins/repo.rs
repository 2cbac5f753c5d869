//! Reading and writing admin rows.

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
