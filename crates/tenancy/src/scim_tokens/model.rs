//! Token rows and the states a token can be in.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::ids::{TenantId, TokenId};
use crate::schema::scim_tokens;

/// A token as stored: never the token itself, only its digest and last four characters.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = scim_tokens, check_for_backend(diesel::pg::Pg))]
pub struct ScimTokenRow {
    /// The tenant the token authenticates for.
    pub tenant_id: TenantId,
    /// The token's record id.
    pub id: TokenId,
    /// SHA-256 of the token.
    pub token_hash: Vec<u8>,
    /// The token's last four characters, to tell tokens apart in the console.
    pub last4: String,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// One year after issue.
    pub expires_at: DateTime<Utc>,
    /// The token this one replaced, if it was a regeneration.
    pub replaces_id: Option<TokenId>,
    /// Set when a newer token was issued: the end of the overlap window.
    pub retire_after: Option<DateTime<Utc>>,
    /// When it stopped working (revoked by an admin or replaced by a used newer token).
    pub revoked_at: Option<DateTime<Utc>>,
    /// Why it stopped working; set with `revoked_at`.
    pub revoked_reason: Option<RevokedReason>,
    /// When the identity provider first authenticated with it.
    pub first_used_at: Option<DateTime<Utc>>,
    /// When the identity provider last authenticated with it (at most a minute stale).
    pub last_used_at: Option<DateTime<Utc>>,
    /// The console form submission that minted it, so a resubmission mints nothing.
    pub request_id: Option<String>,
    /// Whom it is for: the identity provider, or the console's connection test.
    pub purpose: TokenPurpose,
}

pub use crate::stored::{RevokedReason, TokenPurpose};

/// What a token can do at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    /// The tenant's current token.
    Active,
    /// Superseded by a newer token but still accepted until the given time.
    Overlap {
        /// The end of the overlap window (or the token's expiry, if sooner).
        until: DateTime<Utc>,
    },
    /// No longer accepted: revoked or replaced, at the given time.
    Revoked {
        /// Why.
        reason: RevokedReason,
        /// When.
        at: DateTime<Utc>,
    },
    /// The overlap window ended without the token being revoked.
    OverlapEnded {
        /// When the window ended.
        at: DateTime<Utc>,
    },
    /// A year has passed since it was issued.
    Expired {
        /// When it expired.
        at: DateTime<Utc>,
    },
}

impl TokenState {
    /// Whether a request carrying this token is accepted.
    pub fn accepts(self) -> bool {
        matches!(self, TokenState::Active | TokenState::Overlap { .. })
    }
}

impl ScimTokenRow {
    /// The token's state at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> TokenState {
        if let Some(at) = self.revoked_at {
            let reason = self.revoked_reason.unwrap_or(RevokedReason::Revoked);
            return TokenState::Revoked { reason, at };
        }
        if self.expires_at <= now {
            return TokenState::Expired {
                at: self.expires_at,
            };
        }
        match self.retire_after {
            Some(at) if at <= now => TokenState::OverlapEnded { at },
            Some(until) => TokenState::Overlap {
                until: until.min(self.expires_at),
            },
            None => TokenState::Active,
        }
    }
}

/// A freshly issued token: the only value that ever holds the plaintext. `Debug` redacts it.
#[derive(Clone)]
pub struct IssuedToken {
    /// The bearer token to paste into the identity provider.
    pub token: String,
    /// Its stored record.
    pub record: ScimTokenRow,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &"[redacted]")
            .field("record", &self.record)
            .finish()
    }
}

#[derive(Insertable)]
#[diesel(table_name = scim_tokens)]
pub(crate) struct TokenInsert<'a> {
    pub tenant_id: TenantId,
    pub id: TokenId,
    pub token_hash: &'a [u8],
    pub last4: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub replaces_id: Option<TokenId>,
    pub request_id: Option<&'a str>,
    pub purpose: TokenPurpose,
}
