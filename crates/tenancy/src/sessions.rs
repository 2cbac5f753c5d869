//! Server-side sessions for console admins and signed-in end users. The cookie carries
//! `<tenant id>.<secret>`; only the SHA-256 of the secret is stored, under the tenant's key, so
//! any replica can serve any request and a stolen database does not yield live cookies.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::error::Result;
use crate::ids::{AdminId, TenantId, UserId};
use crate::schema::sessions;
use crate::secret::{random_alphanumeric, sha256};

/// A session ends this long after sign-in, whatever happens.
pub const ABSOLUTE_LIFETIME: Duration = Duration::hours(12);
/// A session ends after this long without a request.
pub const IDLE_TIMEOUT: Duration = Duration::hours(2);
/// A session waiting for the second factor ends this long after the right password.
pub const AWAITING_MFA_LIFETIME: Duration = Duration::minutes(5);
/// `last_seen_at` is written at most this often.
const SEEN_RESOLUTION: Duration = Duration::minutes(1);

/// A session as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions, check_for_backend(diesel::pg::Pg))]
pub struct SessionRow {
    /// The tenant.
    pub tenant_id: TenantId,
    /// SHA-256 of the cookie secret.
    pub token_hash: Vec<u8>,
    /// The admin, for console sessions.
    pub admin_id: Option<AdminId>,
    /// The end user, for OpenID sign-in sessions.
    pub user_id: Option<UserId>,
    /// The synchroniser token every form of this session must carry.
    pub csrf_token: String,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
    /// Last request (at most a minute stale).
    pub last_seen_at: DateTime<Utc>,
    /// Absolute end.
    pub expires_at: DateTime<Utc>,
    /// Opened by a right password, still waiting for the second factor: it opens nothing
    /// but the code's page.
    pub awaiting_mfa: bool,
}

/// Who a session is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Principal {
    /// A console admin.
    Admin(AdminId),
    /// A provisioned end user.
    User(UserId),
}

/// Starts a session; returns the cookie value (shown once) and the row.
pub fn create(
    conn: &mut PgConnection,
    tenant: TenantId,
    who: Principal,
    now: DateTime<Utc>,
) -> Result<(String, SessionRow)> {
    insert(conn, tenant, who, now, false)
}

/// Starts a session for an admin whose password was right and who must still give a TOTP or
/// recovery code: it opens nothing else, and ends after [`AWAITING_MFA_LIFETIME`].
pub fn create_awaiting_mfa(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    now: DateTime<Utc>,
) -> Result<(String, SessionRow)> {
    insert(conn, tenant, Principal::Admin(admin), now, true)
}

fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    who: Principal,
    now: DateTime<Utc>,
    awaiting_mfa: bool,
) -> Result<(String, SessionRow)> {
    let secret = random_alphanumeric(43);
    let (admin_id, user_id) = match who {
        Principal::Admin(admin) => (Some(admin), None),
        Principal::User(user) => (None, Some(user)),
    };
    let row = diesel::insert_into(sessions::table)
        .values((
            sessions::tenant_id.eq(tenant),
            sessions::token_hash.eq(&sha256(&secret)[..]),
            sessions::admin_id.eq(admin_id),
            sessions::user_id.eq(user_id),
            sessions::csrf_token.eq(random_alphanumeric(32)),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
            sessions::expires_at.eq(now
                + if awaiting_mfa {
                    AWAITING_MFA_LIFETIME
                } else {
                    ABSOLUTE_LIFETIME
                }),
            sessions::awaiting_mfa.eq(awaiting_mfa),
        ))
        .returning(SessionRow::as_returning())
        .get_result(conn)?;
    Ok((format!("{tenant}.{secret}"), row))
}

/// The live session for a cookie value, refreshing its last-seen time; `None` when the cookie is
/// malformed, unknown, expired or idle too long (an expired one is deleted).
pub fn find(
    conn: &mut PgConnection,
    cookie: &str,
    now: DateTime<Utc>,
) -> Result<Option<SessionRow>> {
    let Some((tenant, hash)) = parse_cookie(cookie) else {
        return Ok(None);
    };
    let row: Option<SessionRow> = sessions::table
        .find((tenant, &hash[..]))
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?;
    let Some(row) = row else { return Ok(None) };
    if row.expires_at <= now || row.last_seen_at + IDLE_TIMEOUT <= now {
        diesel::delete(sessions::table.find((tenant, &hash[..]))).execute(conn)?;
        return Ok(None);
    }
    if row.last_seen_at + SEEN_RESOLUTION <= now {
        diesel::update(sessions::table.find((tenant, &hash[..])))
            .set(sessions::last_seen_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some(row))
}

/// Ends the session of a cookie value (sign-out). Unknown cookies are ignored.
pub fn delete(conn: &mut PgConnection, cookie: &str) -> Result<()> {
    if let Some((tenant, hash)) = parse_cookie(cookie) {
        diesel::delete(sessions::table.find((tenant, &hash[..]))).execute(conn)?;
    }
    Ok(())
}

/// Ends every session of an admin except `keep` (after a password change).
pub fn delete_admin_sessions(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    keep: Option<&[u8]>,
) -> Result<usize> {
    let query = sessions::table
        .filter(sessions::tenant_id.eq(tenant))
        .filter(sessions::admin_id.eq(admin));
    Ok(match keep {
        Some(hash) => diesel::delete(query.filter(sessions::token_hash.ne(hash))).execute(conn)?,
        None => diesel::delete(query).execute(conn)?,
    })
}

/// The tenant a cookie value names (not proof of anything: [`find`] checks the secret). Session
/// work is scoped to this tenant.
pub fn tenant_of(cookie: &str) -> Option<TenantId> {
    parse_cookie(cookie).map(|(tenant, _)| tenant)
}

fn parse_cookie(cookie: &str) -> Option<(TenantId, [u8; 32])> {
    let (tenant, secret) = cookie.split_once('.')?;
    let tenant = tenant.parse().ok()?;
    (secret.len() == 43 && secret.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| (tenant, sha256(secret)))
}
