//! Reading and writing admin rows.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use super::model::{AdminInsert, AdminRow};
use crate::db::lower;
use crate::error::{Error, Result};
use crate::ids::{AdminId, TenantId};
use crate::password::{hash_password, one_time_password};
use crate::schema::{admin_emails, admin_sign_in_failures, admins};
use crate::stored::AdminRole;

/// Creates an owner with a fresh one-time password, which is returned once and must be changed
/// at first sign-in (a tenant's first admin). Hashes with argon2: call it on the blocking pool.
pub fn create_with_one_time_password(
    conn: &mut PgConnection,
    tenant: TenantId,
    email: &str,
) -> Result<(AdminRow, String)> {
    create_with_one_time_password_as(conn, tenant, email, AdminRole::Owner)
}

/// [`create_with_one_time_password`] with another role (the operator's `admin add`).
pub fn create_with_one_time_password_as(
    conn: &mut PgConnection,
    tenant: TenantId,
    email: &str,
    role: AdminRole,
) -> Result<(AdminRow, String)> {
    let email = checked_email(email)?;
    let password = one_time_password();
    let hash = hash_password(&password)?;
    let row = insert(conn, tenant, email, &hash, true, role)?;
    Ok((row, password))
}

/// The address trimmed, or a message saying it is not one.
pub(crate) fn checked_email(email: &str) -> Result<&str> {
    let email = email.trim();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.contains(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(Error::Invalid(format!(
            "{email:?} is not an email address."
        )))
    }
}

/// Inserts an admin and its entry in the e-mail directory, both or neither. An address already
/// an admin of the tenant is refused in words.
pub(crate) fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    email: &str,
    hash: &str,
    must_change_password: bool,
    role: AdminRole,
) -> Result<AdminRow> {
    crate::db::transaction(conn, |conn| -> Result<AdminRow> {
        let row = diesel::insert_into(admins::table)
            .values(&AdminInsert {
                tenant_id: tenant,
                id: AdminId::new_random(),
                email,
                password_hash: Some(hash),
                must_change_password,
                role,
            })
            .returning(AdminRow::as_returning())
            .get_result(conn)
            .map_err(|error| match Error::from(error) {
                Error::Conflict { .. } => {
                    Error::Invalid(format!("{email} is already an admin of this organisation."))
                }
                other => other,
            })?;
        diesel::insert_into(admin_emails::table)
            .values((
                admin_emails::email_key.eq(email.to_lowercase()),
                admin_emails::tenant_id.eq(tenant),
                admin_emails::admin_id.eq(row.id),
            ))
            .execute(conn)?;
        Ok(row)
    })
}

/// The admin with this id in this tenant.
pub fn find(conn: &mut PgConnection, tenant: TenantId, admin: AdminId) -> Result<AdminRow> {
    Ok(admins::table
        .find((tenant, admin))
        .select(AdminRow::as_select())
        .first(conn)?)
}

/// The admins, in any tenant, with this e-mail address (case-insensitive), from the e-mail
/// directory: sign-in does not ask for a tenant, so it first learns the tenants to look in
/// (one small table; a reference table on Citus), then reads each admin in its own tenant.
pub fn tenants_of_email(conn: &mut PgConnection, email: &str) -> Result<Vec<(TenantId, AdminId)>> {
    Ok(admin_emails::table
        .filter(admin_emails::email_key.eq(email.trim().to_lowercase()))
        .select((admin_emails::tenant_id, admin_emails::admin_id))
        .load(conn)?)
}

/// Every admin, across tenants, with this email (case-insensitive), oldest first: for the
/// operator and tests; sign-in goes through [`tenants_of_email`].
pub fn find_by_email(conn: &mut PgConnection, email: &str) -> Result<Vec<AdminRow>> {
    Ok(admins::table
        .filter(lower(admins::email).eq(email.trim().to_lowercase()))
        .order(admins::created_at.asc())
        .select(AdminRow::as_select())
        .load(conn)?)
}

/// Failed sign-ins from one address tolerated before that address must wait.
pub const FREE_ATTEMPTS: i32 = 5;
/// Failed sign-ins within [`FAILURE_MEMORY`], from all addresses together, after which the
/// account itself is locked for everyone (a guess spread over many addresses).
pub const ACCOUNT_WIDE_FAILURES: i32 = 25;
/// Failures older than this are forgotten.
pub const FAILURE_MEMORY: Duration = Duration::hours(1);

/// How long to wait after `failed` consecutive failures: 30 s doubling with each further
/// failure, at most 15 minutes; nothing while free attempts remain.
pub fn lockout_for(failed: i32) -> Option<Duration> {
    let over = failed - FREE_ATTEMPTS;
    (over >= 0).then(|| Duration::seconds((30_i64 << over.min(5)).min(15 * 60)))
}

/// An admin who may be signing in, with how long sign-in is refused from this address.
#[derive(Debug, Clone)]
pub struct SignInCandidate {
    /// The admin.
    pub admin: AdminRow,
    /// No sign-in of this admin from this address is checked before this time.
    pub locked_until: Option<DateTime<Utc>>,
}

/// The admin `admin` of `tenant` (found by [`tenants_of_email`]) as a sign-in candidate, and
/// whether sign-in from `client` is paused: by that address's own failures, or by the
/// account-wide lock. `None` when the directory entry outlived the admin.
pub fn sign_in_candidate(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    client: &str,
    now: DateTime<Utc>,
) -> Result<Option<SignInCandidate>> {
    let Some(admin) = admins::table
        .find((tenant, admin))
        .select(AdminRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let for_address: Option<DateTime<Utc>> = admin_sign_in_failures::table
        .find((admin.tenant_id, admin.id, client))
        .select(admin_sign_in_failures::locked_until)
        .first(conn)
        .optional()?
        .flatten();
    let locked_until = [for_address, admin.locked_until]
        .into_iter()
        .flatten()
        .filter(|until| *until > now)
        .max();
    Ok(Some(SignInCandidate {
        admin,
        locked_until,
    }))
}

/// Counts a failed sign-in of `admin` from `client`: that address waits once its free attempts
/// are used up, and the whole account once the failures of the last hour from all addresses
/// reach [`ACCOUNT_WIDE_FAILURES`].
pub fn record_failed_login(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    client: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    use diesel::upsert::excluded;
    let forgotten = now - FAILURE_MEMORY;
    let failures: i32 = diesel::insert_into(admin_sign_in_failures::table)
        .values((
            admin_sign_in_failures::tenant_id.eq(tenant),
            admin_sign_in_failures::admin_id.eq(admin),
            admin_sign_in_failures::client_addr.eq(client),
            admin_sign_in_failures::failures.eq(1),
            admin_sign_in_failures::last_failed_at.eq(now),
        ))
        .on_conflict((
            admin_sign_in_failures::tenant_id,
            admin_sign_in_failures::admin_id,
            admin_sign_in_failures::client_addr,
        ))
        .do_update()
        .set((
            admin_sign_in_failures::failures.eq(diesel::dsl::case_when::<
                _,
                _,
                diesel::sql_types::Integer,
            >(
                admin_sign_in_failures::last_failed_at.lt(forgotten),
                1,
            )
            .otherwise(admin_sign_in_failures::failures + 1)),
            admin_sign_in_failures::last_failed_at
                .eq(excluded(admin_sign_in_failures::last_failed_at)),
        ))
        .returning(admin_sign_in_failures::failures)
        .get_result(conn)?;
    diesel::update(admin_sign_in_failures::table.find((tenant, admin, client)))
        .set(admin_sign_in_failures::locked_until.eq(lockout_for(failures).map(|d| now + d)))
        .execute(conn)?;
    let recent: Option<i64> = admin_sign_in_failures::table
        .filter(admin_sign_in_failures::tenant_id.eq(tenant))
        .filter(admin_sign_in_failures::admin_id.eq(admin))
        .filter(admin_sign_in_failures::last_failed_at.ge(forgotten))
        .select(diesel::dsl::sum(admin_sign_in_failures::failures))
        .first(conn)?;
    let recent = i32::try_from(recent.unwrap_or(0)).unwrap_or(i32::MAX);
    let account_lock = (recent >= ACCOUNT_WIDE_FAILURES)
        .then(|| lockout_for(recent - ACCOUNT_WIDE_FAILURES + FREE_ATTEMPTS))
        .flatten()
        .map(|d| now + d);
    diesel::update(admins::table.find((tenant, admin)))
        .set((
            admins::failed_logins.eq(recent),
            admins::locked_until.eq(account_lock),
        ))
        .execute(conn)?;
    Ok(())
}

/// Clears the failures of `client` and the account-wide lock after a successful sign-in.
pub fn record_successful_login(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    client: &str,
) -> Result<()> {
    diesel::delete(admin_sign_in_failures::table.find((tenant, admin, client))).execute(conn)?;
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
