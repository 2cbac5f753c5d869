//! End-user OpenID Connect sign-in state: logins in flight (state, nonce and PKCE verifier,
//! kept server-side because the identity provider's redirect back is cross-site), and matching
//! a verified identity to a provisioned user of the tenant.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;

use crate::directory::users::{self, UserRow};
use crate::error::Result;
use crate::ids::TenantId;
use crate::schema::{pending_oidc_logins, users as users_table};

/// How long a sign-in may take at the identity provider.
pub const LOGIN_TTL: Duration = Duration::minutes(10);

/// A login in flight.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = pending_oidc_logins, check_for_backend(diesel::pg::Pg))]
pub struct PendingLogin {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The `state` sent to the provider.
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE code verifier.
    pub pkce_verifier: String,
    /// Where to go after signing in.
    pub return_to: Option<String>,
    /// When the login started.
    pub created_at: DateTime<Utc>,
    /// When it can no longer complete.
    pub expires_at: DateTime<Utc>,
    /// Started for the console (an admin), not for an end user's page.
    pub for_console: bool,
}

/// Records a login in flight; `for_console` when an admin signs in to the console (its
/// callback takes only those, and the end users' callback only the others).
pub fn start(
    conn: &mut PgConnection,
    tenant: TenantId,
    state: &str,
    nonce: &str,
    pkce_verifier: &str,
    for_console: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    // Logins abandoned at the provider are swept as new ones start.
    diesel::delete(
        pending_oidc_logins::table
            .filter(pending_oidc_logins::tenant_id.eq(tenant))
            .filter(pending_oidc_logins::expires_at.lt(now)),
    )
    .execute(conn)?;
    diesel::insert_into(pending_oidc_logins::table)
        .values((
            pending_oidc_logins::tenant_id.eq(tenant),
            pending_oidc_logins::state.eq(state),
            pending_oidc_logins::nonce.eq(nonce),
            pending_oidc_logins::pkce_verifier.eq(pkce_verifier),
            pending_oidc_logins::created_at.eq(now),
            pending_oidc_logins::expires_at.eq(now + LOGIN_TTL),
            pending_oidc_logins::for_console.eq(for_console),
        ))
        .execute(conn)?;
    Ok(())
}

/// Takes (and deletes) the login with this state: each state completes at most once. Expired
/// logins, and those started for the other callback (`for_console`), are `None`.
pub fn take(
    conn: &mut PgConnection,
    tenant: TenantId,
    state: &str,
    for_console: bool,
    now: DateTime<Utc>,
) -> Result<Option<PendingLogin>> {
    let taken: Option<PendingLogin> =
        diesel::delete(pending_oidc_logins::table.find((tenant, state)))
            .returning(PendingLogin::as_returning())
            .get_result(conn)
            .optional()?;
    Ok(taken.filter(|login| login.expires_at > now && login.for_console == for_console))
}

/// Who a verified identity is in the tenant.
#[derive(Debug, Clone)]
pub enum Matched {
    /// An active provisioned user (now linked to the subject).
    Active(UserRow),
    /// A provisioned user who is deactivated.
    Deactivated(UserRow),
    /// No provisioned user matches.
    NotProvisioned,
}

/// Matches the provider's subject to a provisioned user: a user already linked to the subject
/// first; otherwise a user whose userName equals one of `names` (preferred_username, email;
/// case-insensitive) and who is not linked to another subject, which is then linked so that
/// later renames keep the link.
pub fn match_user(
    conn: &mut PgConnection,
    tenant: TenantId,
    subject: &str,
    names: &[String],
) -> Result<Matched> {
    let linked: Option<UserRow> = users_table::table
        .filter(users_table::tenant_id.eq(tenant))
        .filter(users_table::oidc_subject.eq(subject))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(user) = linked {
        return Ok(if user.active {
            Matched::Active(user)
        } else {
            Matched::Deactivated(user)
        });
    }
    for name in names.iter().filter(|n| !n.trim().is_empty()) {
        let Some(user) = users::find_by_user_name(conn, tenant, name)? else {
            continue;
        };
        if user.oidc_subject.as_deref().is_some_and(|s| s != subject) {
            continue;
        }
        if !user.active {
            return Ok(Matched::Deactivated(user));
        }
        let user = diesel::update(users_table::table.find((tenant, user.id)))
            .set(users_table::oidc_subject.eq(subject))
            .returning(UserRow::as_returning())
            .get_result(conn)?;
        return Ok(Matched::Active(user));
    }
    Ok(Matched::NotProvisioned)
}
