//! Length limits of the texts that are indexed, checked before any SQL: PostgreSQL refuses an
//! index entry over about 2.7 kB, which would otherwise surface as an internal error. The
//! limits are in bytes of UTF-8 and generous for every identity provider (Okta allows 100
//! characters in a userName, Entra 256 in a group name); the README lists them.

use crate::error::{Error, Result};

/// `userName` of a user.
pub const MAX_USER_NAME_BYTES: usize = 512;
/// `externalId` of a user or group.
pub const MAX_EXTERNAL_ID_BYTES: usize = 512;
/// The primary email of a user (the `emails` value that is indexed).
pub const MAX_EMAIL_BYTES: usize = 512;
/// `displayName` of a group.
pub const MAX_GROUP_NAME_BYTES: usize = 1024;

/// `Invalid` unless `value` (the attribute called `name`) fits in `max` bytes.
pub fn check_length(name: &str, value: &str, max: usize) -> Result<()> {
    if value.len() > max {
        return Err(Error::Invalid(format!(
            "\"{name}\" is {} bytes long; the limit is {max} bytes.",
            value.len()
        )));
    }
    Ok(())
}
