//! Admin passwords: argon2id hashing with OWASP's parameters, and one-time passwords.
//!
//! Hashing is deliberately slow (tens of milliseconds), so callers run it inside `Db::run` or
//! `spawn_blocking`, never on an async thread.

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

use crate::error::{Error, Result};
use crate::secret::random_alphanumeric;

/// The shortest password an admin may choose.
pub const MIN_PASSWORD_LEN: usize = 12;

/// A hash of a random password that nobody knows, verified against when an email is unknown so
/// that a wrong email takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&random_alphanumeric(24)).unwrap_or_default());

/// Hashes a password with argon2id (m = 19 MiB, t = 2, p = 1: OWASP's recommendation) and a
/// fresh random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|e| Error::Internal(format!("cannot hash a password: {e}")))
}

/// Whether `password` matches the PHC string `hash`. A malformed hash never matches.
pub fn verify_password(password: &str, hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), hash)
        .is_ok()
}

/// Spends the same time as a real verification, for unknown accounts. Always false.
pub fn verify_against_dummy(password: &str) -> bool {
    verify_password(password, &DUMMY_HASH);
    false
}

/// A one-time password for a new admin: 20 random alphanumerics (about 119 bits).
pub fn one_time_password() -> String {
    random_alphanumeric(20)
}

/// Checks the rules for a password an admin chooses; the message is shown on the form.
pub fn check_new_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(Error::Invalid(format!(
            "The password must be at least {MIN_PASSWORD_LEN} characters long."
        )));
    }
    if password.len() > 1024 {
        return Err(Error::Invalid(
            "The password is too long (at most 1024 bytes).".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify_round_trips() -> Result<()> {
        let hash = hash_password("correct horse battery")?;
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a phc string"));
        assert!(!verify_against_dummy("anything"));
        Ok(())
    }

    #[test]
    fn new_password_rules() {
        assert!(check_new_password("short").is_err());
        assert!(check_new_password("long enough password").is_ok());
    }
}
