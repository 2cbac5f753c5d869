//! Issuing, verifying, listing and revoking tokens. Each function is one unit of database work
//! given a connection; callers run it inside `Db::run`.

use chrono::{DateTime, Duration, Months, Utc};
use diesel::prelude::*;

use super::model::{
    IssuedToken, RevokedReason, ScimTokenRow, TokenInsert, TokenPurpose, TokenState,
};
use crate::error::{Error, Result};
use crate::ids::{TenantId, TokenId};
use crate::schema::{scim_tokens, tenants};
use crate::secret::{constant_time_eq, random_alphanumeric, sha256};
use crate::tenants::{self as tenant_repo, AuthType};

/// Every token starts with this, so that secret scanners can recognise a leaked one.
pub const TOKEN_PREFIX: &str = "scim_";
/// 43 characters of [A-Za-z0-9] carry just over 256 bits.
const TOKEN_SECRET_LEN: usize = 43;
/// How long the previous token keeps working after a regeneration, unless the new one is used
/// first.
pub const DEFAULT_OVERLAP: Duration = Duration::days(7);
/// `last_used_at` is written at most this often per token, so a burst of requests does not
/// turn every read into a write.
pub const LAST_USED_RESOLUTION: Duration = Duration::minutes(1);

/// When a token issued at `created_at` expires: one calendar year later.
pub fn expiry_for(created_at: DateTime<Utc>) -> DateTime<Utc> {
    created_at
        .checked_add_months(Months::new(12))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Issues a new token for the tenant (the console's Generate / Regenerate Token, and
/// `insights token generate`). The tenant's current token, if any, keeps working for `overlap`
/// or until the new token is first used. Fails with `Invalid` when SCIM is not enabled for the
/// tenant or its sign-in type is not OpenID.
pub fn issue(
    conn: &mut PgConnection,
    tenant: TenantId,
    now: DateTime<Utc>,
    overlap: Duration,
) -> Result<IssuedToken> {
    issue_for_request(conn, tenant, now, overlap, None)?.ok_or(Error::NotFound)
}

/// [`issue`] for a console form submission identified by `request_id`: `None` when that
/// submission already minted a token (a reload or a resubmitted form mints nothing).
pub fn issue_for_request(
    conn: &mut PgConnection,
    tenant: TenantId,
    now: DateTime<Utc>,
    overlap: Duration,
    request_id: Option<&str>,
) -> Result<Option<IssuedToken>> {
    crate::transaction(conn, |conn| {
        // Locking the tenant row serialises concurrent regenerations of one tenant.
        let tenant_row = tenant_repo::find_for_update(conn, tenant)?;
        if !tenant_row.scim_enabled {
            return Err(Error::Invalid(
                "SCIM provisioning is not enabled for this tenant. It is available on request: ask Insights support to enable it."
                    .into(),
            ));
        }
        if tenant_row.auth_type() != AuthType::OpenId {
            return Err(Error::Invalid(
                "SCIM provisioning needs the tenant's sign-in type to be OpenID: provisioned users sign in through the identity provider. Configure OpenID sign-in first."
                    .into(),
            ));
        }
        if let Some(request_id) = request_id {
            let seen: i64 = scim_tokens::table
                .filter(scim_tokens::tenant_id.eq(tenant))
                .filter(scim_tokens::request_id.eq(request_id))
                .count()
                .get_result(conn)?;
            if seen > 0 {
                return Ok(None);
            }
        }
        // The tokens still accepted that have not been superseded yet: normally at most one.
        let current: Vec<TokenId> = scim_tokens::table
            .filter(scim_tokens::tenant_id.eq(tenant))
            .filter(scim_tokens::purpose.eq(TokenPurpose::IdentityProvider))
            .filter(scim_tokens::revoked_at.is_null())
            .filter(scim_tokens::retire_after.is_null())
            .filter(scim_tokens::expires_at.gt(now))
            .order(scim_tokens::created_at.desc())
            .select(scim_tokens::id)
            .load(conn)?;
        if !current.is_empty() {
            diesel::update(
                scim_tokens::table
                    .filter(scim_tokens::tenant_id.eq(tenant))
                    .filter(scim_tokens::id.eq_any(&current)),
            )
            .set(scim_tokens::retire_after.eq(now + overlap))
            .execute(conn)?;
            super::announce(conn, tenant)?;
        }
        let issued = mint(
            conn,
            Minted {
                tenant,
                now,
                expires_at: expiry_for(now),
                replaces: current.first().copied(),
                request_id,
                purpose: TokenPurpose::IdentityProvider,
            },
        )?;
        Ok(Some(issued))
    })
}

/// What a new token is.
struct Minted<'a> {
    tenant: TenantId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    replaces: Option<TokenId>,
    request_id: Option<&'a str>,
    purpose: TokenPurpose,
}

/// Draws a new token and stores its hash: the token itself leaves only in the answer.
fn mint(conn: &mut PgConnection, minted: Minted<'_>) -> Result<IssuedToken> {
    let token = format!("{TOKEN_PREFIX}{}", random_alphanumeric(TOKEN_SECRET_LEN));
    let hash = sha256(&token);
    let last4 = &token[token.len() - 4..];
    let record = diesel::insert_into(scim_tokens::table)
        .values(&TokenInsert {
            tenant_id: minted.tenant,
            id: TokenId::new_random(),
            token_hash: &hash,
            last4,
            created_at: minted.now,
            expires_at: minted.expires_at,
            replaces_id: minted.replaces,
            request_id: minted.request_id,
            purpose: minted.purpose,
        })
        .returning(ScimTokenRow::as_returning())
        .get_result(conn)?;
    Ok(IssuedToken { token, record })
}

/// A token that was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// The tenant it authenticates for.
    pub tenant: TenantId,
    /// The token's record.
    pub token: TokenId,
    /// The operator's SCIM switch for the tenant.
    pub scim_enabled: bool,
    /// Whether the tenant signs in with OpenID (SCIM needs it).
    pub openid: bool,
    /// Whether an admin paused the tenant's provisioning.
    pub paused: bool,
    /// The tenant's adoption setting, for creates that match users SCIM does not manage.
    pub adoption: crate::stored::Adoption,
    /// The tenant's shadow while it is in shadow mode: the directory its requests are
    /// answered from (`safety::shadow`).
    pub shadow: Option<TenantId>,
    /// When the token stops being accepted unless something changes first: its expiry, or the
    /// end of its overlap window.
    pub valid_until: DateTime<Utc>,
    /// This was the token's first use, and it retired the tenant's older tokens.
    pub retired_older: bool,
}

/// Why a presented token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not a token of ours, or not of this tenant.
    Unknown,
    /// Revoked by an admin, or retired by a newer token or the end of its overlap window.
    Revoked,
    /// More than a year old.
    Expired,
}

/// Checks a bearer token presented for `tenant`: one SHA-256 and one indexed lookup. On the
/// first use of a token, every older token of the tenant is retired; otherwise `last_used_at` is
/// written at most once per [`LAST_USED_RESOLUTION`].
pub fn verify(
    conn: &mut PgConnection,
    tenant: TenantId,
    presented: &str,
    now: DateTime<Utc>,
) -> Result<Result<Verified, Rejection>> {
    if !well_formed(presented) {
        return Ok(Err(Rejection::Unknown));
    }
    let hash = sha256(presented);
    let found: Option<(
        ScimTokenRow,
        bool,
        AuthType,
        bool,
        crate::stored::Adoption,
        Option<TenantId>,
    )> = scim_tokens::table
        .inner_join(tenants::table)
        .filter(scim_tokens::tenant_id.eq(tenant))
        .filter(scim_tokens::token_hash.eq(&hash[..]))
        .select((
            ScimTokenRow::as_select(),
            tenants::scim_enabled,
            tenants::auth_type,
            tenants::provisioning_paused_at.is_not_null(),
            tenants::adoption,
            tenants::shadow_tenant_id,
        ))
        .first(conn)
        .optional()?;
    let Some((row, scim_enabled, auth_type, paused, adoption, shadow)) = found else {
        return Ok(Err(Rejection::Unknown));
    };
    // The index already matched the digest; compare once more in constant time so that no
    // code path branches on a partial match.
    if !constant_time_eq(&row.token_hash, &hash) {
        return Ok(Err(Rejection::Unknown));
    }
    let valid_until = match row.state(now) {
        TokenState::Expired { .. } => return Ok(Err(Rejection::Expired)),
        TokenState::Active => row.expires_at,
        TokenState::Overlap { until } => until,
        TokenState::Revoked { .. } | TokenState::OverlapEnded { .. } => {
            return Ok(Err(Rejection::Revoked));
        }
    };
    let mut retired_older = false;
    if row.first_used_at.is_none() && row.purpose == TokenPurpose::IdentityProvider {
        retired_older = record_first_use(conn, &row, now)?;
    } else if row
        .last_used_at
        .is_none_or(|at| at <= now - LAST_USED_RESOLUTION)
    {
        diesel::update(scim_tokens::table.find((tenant, row.id)))
            .filter(
                scim_tokens::last_used_at
                    .is_null()
                    .or(scim_tokens::last_used_at.le(now - LAST_USED_RESOLUTION)),
            )
            .set(scim_tokens::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(Ok(Verified {
        tenant,
        token: row.id,
        scim_enabled,
        openid: auth_type == AuthType::OpenId,
        paused,
        adoption,
        shadow,
        valid_until,
        retired_older,
    }))
}

/// The identity provider switched to this token: from now on, older tokens are not needed.
/// Tells whether any older token was still working and is now retired.
fn record_first_use(
    conn: &mut PgConnection,
    row: &ScimTokenRow,
    now: DateTime<Utc>,
) -> Result<bool> {
    crate::transaction(conn, |conn| {
        let first = diesel::update(scim_tokens::table.find((row.tenant_id, row.id)))
            .filter(scim_tokens::first_used_at.is_null())
            .set((
                scim_tokens::first_used_at.eq(now),
                scim_tokens::last_used_at.eq(now),
            ))
            .execute(conn)?;
        if first != 1 {
            return Ok(false);
        }
        let retired = diesel::update(
            scim_tokens::table
                .filter(scim_tokens::tenant_id.eq(row.tenant_id))
                .filter(scim_tokens::purpose.eq(TokenPurpose::IdentityProvider))
                .filter(scim_tokens::created_at.lt(row.created_at))
                .filter(scim_tokens::revoked_at.is_null()),
        )
        .set((
            scim_tokens::revoked_at.eq(now),
            scim_tokens::revoked_reason.eq(RevokedReason::Replaced),
        ))
        .execute(conn)?;
        if retired > 0 {
            super::announce(conn, row.tenant_id)?;
        }
        Ok(retired > 0)
    })
}

/// Revokes one token of the tenant at once. Revoking a token that no longer works is a no-op;
/// a token of another tenant is `NotFound`.
pub fn revoke(
    conn: &mut PgConnection,
    tenant: TenantId,
    token: TokenId,
    now: DateTime<Utc>,
) -> Result<ScimTokenRow> {
    let row: ScimTokenRow = scim_tokens::table
        .find((tenant, token))
        .select(ScimTokenRow::as_select())
        .first(conn)?;
    if row.revoked_at.is_some() {
        return Ok(row);
    }
    let revoked = diesel::update(scim_tokens::table.find((tenant, token)))
        .set((
            scim_tokens::revoked_at.eq(now),
            scim_tokens::revoked_reason.eq(RevokedReason::Revoked),
        ))
        .returning(ScimTokenRow::as_returning())
        .get_result(conn)?;
    super::announce(conn, tenant)?;
    Ok(revoked)
}

/// How long a connection test's token is accepted.
pub const SELF_TEST_TOKEN_LIFE: Duration = Duration::minutes(5);

/// Mints the token of one connection test: accepted for [`SELF_TEST_TOKEN_LIFE`], never listed,
/// never current, and without effect on the identity provider's tokens.
pub fn issue_self_test(
    conn: &mut PgConnection,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<IssuedToken> {
    mint(
        conn,
        Minted {
            tenant,
            now,
            expires_at: now + SELF_TEST_TOKEN_LIFE,
            replaces: None,
            request_id: None,
            purpose: TokenPurpose::SelfTest,
        },
    )
}

/// Which of `tokens` were minted for a connection test (to mark their requests).
pub fn self_test_tokens(
    conn: &mut PgConnection,
    tenant: TenantId,
    tokens: &[TokenId],
) -> Result<Vec<TokenId>> {
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    Ok(scim_tokens::table
        .filter(scim_tokens::tenant_id.eq(tenant))
        .filter(scim_tokens::id.eq_any(tokens))
        .filter(scim_tokens::purpose.eq(TokenPurpose::SelfTest))
        .select(scim_tokens::id)
        .load(conn)?)
}

/// The tenant's tokens for the identity provider, newest first, at most `limit`.
pub fn list(conn: &mut PgConnection, tenant: TenantId, limit: i64) -> Result<Vec<ScimTokenRow>> {
    Ok(scim_tokens::table
        .filter(scim_tokens::tenant_id.eq(tenant))
        .filter(scim_tokens::purpose.eq(TokenPurpose::IdentityProvider))
        .order(scim_tokens::created_at.desc())
        .limit(limit)
        .select(ScimTokenRow::as_select())
        .load(conn)?)
}

/// Whether `presented` has the shape of one of our tokens (saves a lookup for junk).
fn well_formed(presented: &str) -> bool {
    presented.len() == TOKEN_PREFIX.len() + TOKEN_SECRET_LEN
        && presented.starts_with(TOKEN_PREFIX)
        && presented[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_is_one_calendar_year_later() {
        let created = DateTime::parse_from_rfc3339("2026-02-28T10:00:00Z").map(|d| d.to_utc());
        let created = created.unwrap_or_default();
        assert_eq!(
            expiry_for(created).to_rfc3339(),
            "2027-02-28T10:00:00+00:00"
        );
    }

    #[test]
    fn well_formed_accepts_only_our_shape() {
        let token = format!("{TOKEN_PREFIX}{}", random_alphanumeric(TOKEN_SECRET_LEN));
        assert!(well_formed(&token));
        assert!(!well_formed("non-token"));
        assert!(!well_formed(&token[..token.len() - 1]));
        assert!(!well_formed(&format!(
            "{TOKEN_PREFIX}{}",
            "!".repeat(TOKEN_SECRET_LEN)
        )));
    }
}
