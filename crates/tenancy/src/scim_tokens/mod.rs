//! SCIM bearer tokens: how they look, how they are issued, verified, rotated and revoked.
//!
//! A token is `scim_` followed by 43 random alphanumerics (256 bits from the OS generator).
//! Only its SHA-256 is stored, so verifying costs one hash and one indexed lookup, and a server
//! remembers a verified token for at most two seconds, and forgets it as soon as a change to
//! it is announced (`TokenCache`, [`announce`]). A token lasts one year. Regenerating keeps the previous token working until the identity provider first
//! uses the new one, until an overlap window ends, or until an admin revokes it: there is no
//! outage while the admin pastes the new token into Okta.

mod announce;
mod cache;
mod listener;
mod model;
mod service;

pub use announce::announce;
pub use cache::{CHANNEL, RECHECK_AFTER, REFUSED_EVERYWHERE_WITHIN, TokenCache};
pub use listener::APPLICATION_NAME;
pub use model::{IssuedToken, RevokedReason, ScimTokenRow, TokenPurpose, TokenState};
pub use service::{
    DEFAULT_OVERLAP, LAST_USED_RESOLUTION, Rejection, SELF_TEST_TOKEN_LIFE, TOKEN_PREFIX, Verified,
    expiry_for, issue, issue_for_request, issue_self_test, list, revoke, self_test_tokens, verify,
};
