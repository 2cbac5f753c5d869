//! Settings encrypted at rest (the OpenID client secret): AES-256-GCM with a key from
//! `INSIGHTS_SECRET_KEY`, a fresh random nonce per value, and the value's owner and purpose
//! as associated data, so that a sealed value copied onto another tenant's row does not open.
//!
//! A sealed value reads `v1:<key id>:<nonce>:<ciphertext>` (hex). The key id (the first four
//! bytes of the key's SHA-256) says which key sealed it, so keys can be rotated: the new key
//! becomes current, the old ones stay readable (`INSIGHTS_PREVIOUS_SECRET_KEYS`), and
//! [`needs_resealing`](SecretKeys::needs_resealing) finds the values to seal again.

use std::fmt;

use aes_gcm::aead::{Aead as _, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit as _, Nonce};

const PREFIX: &str = "v1";

/// A fixed key for tests, so that every server and command of a test reads what the others
/// wrote. The server uses it only through `Settings::for_tests`; never a production key.
pub const TEST_KEY_HEX: &str = "7e57000000000000000000000000000000000000000000000000000000007e57";

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    /// Sealed with a key this server does not have.
    #[error(
        "the value was encrypted with a key this server does not have (check INSIGHTS_SECRET_KEY and INSIGHTS_PREVIOUS_SECRET_KEYS)"
    )]
    UnknownKey,
    /// Not a sealed value, or altered, or sealed for another owner.
    #[error("the encrypted value is damaged or belongs elsewhere")]
    Damaged,
}

/// One key with its id.
struct SealingKey {
    id: [u8; 4],
    cipher: Aes256Gcm,
}

impl SealingKey {
    fn new(bytes: [u8; 32]) -> Self {
        let digest = sha256_bytes(&bytes);
        Self {
            id: [digest[0], digest[1], digest[2], digest[3]],
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(bytes)),
        }
    }
}

/// The current key and the previous ones still accepted for reading.
pub struct SecretKeys {
    current: SealingKey,
    previous: Vec<SealingKey>,
}

impl fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the key ids, never a key.
        f.debug_struct("SecretKeys")
            .field("current", &hex(&self.current.id))
            .field(
                "previous",
                &self.previous.iter().map(|k| hex(&k.id)).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl SecretKeys {
    /// Keys from their text form: 64 hex digits each (`openssl rand -hex 32`, or
    /// `insights secret-key`). The message says what is wrong, never with the key in it.
    pub fn from_hex(current: &str, previous: &[&str]) -> Result<Self, String> {
        let parse = |text: &str, what: &str| {
            parse_key(text.trim()).ok_or_else(|| {
                format!("{what} must be 64 hexadecimal digits (32 bytes), for example the output of `openssl rand -hex 32`")
            })
        };
        Ok(Self {
            current: SealingKey::new(parse(current, "INSIGHTS_SECRET_KEY")?),
            previous: previous
                .iter()
                .filter(|p| !p.trim().is_empty())
                .map(|p| parse(p, "each of INSIGHTS_PREVIOUS_SECRET_KEYS").map(SealingKey::new))
                .collect::<Result<_, _>>()?,
        })
    }

    /// The keys of tests ([`TEST_KEY_HEX`]).
    pub fn for_tests() -> Self {
        Self {
            current: SealingKey::new(parse_key(TEST_KEY_HEX).unwrap_or([0x7e; 32])),
            previous: Vec::new(),
        }
    }

    /// A new random key in its text form.
    pub fn generate_hex() -> String {
        let mut key = [0u8; 32];
        rand::fill(&mut key);
        hex(&key)
    }

    /// Encrypts `plaintext` for `owner` (what the value is and whose it is, for example
    /// `tenants.oidc_client_secret:<tenant id>`).
    pub fn seal(&self, owner: &str, plaintext: &str) -> String {
        let mut nonce = [0u8; 12];
        rand::fill(&mut nonce);
        let sealed = self.current.cipher.encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext.as_bytes(),
                aad: owner.as_bytes(),
            },
        );
        // Encrypting into a vector cannot fail for inputs this small.
        let ciphertext = sealed.unwrap_or_default();
        format!(
            "{PREFIX}:{}:{}:{}",
            hex(&self.current.id),
            hex(&nonce),
            hex(&ciphertext)
        )
    }

    /// Decrypts a value sealed for `owner`.
    pub fn open(&self, owner: &str, sealed: &str) -> Result<String, SealError> {
        let mut parts = sealed.split(':');
        let (Some(PREFIX), Some(id), Some(nonce), Some(ciphertext), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(SealError::Damaged);
        };
        let id = unhex(id).ok_or(SealError::Damaged)?;
        let key = std::iter::once(&self.current)
            .chain(&self.previous)
            .find(|key| key.id[..] == id[..])
            .ok_or(SealError::UnknownKey)?;
        let nonce: [u8; 12] = unhex(nonce)
            .and_then(|n| n.try_into().ok())
            .ok_or(SealError::Damaged)?;
        let ciphertext = unhex(ciphertext).ok_or(SealError::Damaged)?;
        let plaintext = key
            .cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: owner.as_bytes(),
                },
            )
            .map_err(|_| SealError::Damaged)?;
        String::from_utf8(plaintext).map_err(|_| SealError::Damaged)
    }

    /// Whether a stored value should be sealed (again): it is in clear, from before encryption
    /// at rest, or sealed with a previous key.
    pub fn needs_resealing(&self, stored: &str) -> bool {
        let mut parts = stored.split(':');
        match (parts.next(), parts.next().and_then(unhex)) {
            (Some(PREFIX), Some(id)) => id[..] != self.current.id[..],
            _ => true,
        }
    }

    /// Whether a stored value is sealed at all (else it is a value from before encryption at
    /// rest, in clear).
    pub fn is_sealed(stored: &str) -> bool {
        stored.starts_with("v1:") && stored.split(':').count() == 4
    }
}

fn sha256_bytes(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes).into()
}

fn parse_key(text: &str) -> Option<[u8; 32]> {
    unhex(text)?.try_into().ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> SecretKeys {
        SecretKeys::from_hex(&SecretKeys::generate_hex(), &[]).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_sealed_value_opens_only_for_its_owner_and_key() {
        let keys = keys();
        let sealed = keys.seal("tenants.oidc_client_secret:a", "s3cret");
        assert!(!sealed.contains("s3cret"));
        assert!(SecretKeys::is_sealed(&sealed));
        assert_eq!(
            keys.open("tenants.oidc_client_secret:a", &sealed),
            Ok("s3cret".into())
        );
        assert_eq!(
            keys.open("tenants.oidc_client_secret:b", &sealed),
            Err(SealError::Damaged),
            "another owner's row"
        );
        assert_eq!(
            SecretKeys::from_hex(&SecretKeys::generate_hex(), &[])
                .map(|other| other.open("tenants.oidc_client_secret:a", &sealed)),
            Ok(Err(SealError::UnknownKey))
        );
        let mut tampered = sealed.clone();
        tampered.pop();
        tampered.push(if sealed.ends_with('0') { '1' } else { '0' });
        assert_eq!(
            keys.open("tenants.oidc_client_secret:a", &tampered),
            Err(SealError::Damaged)
        );
        assert_ne!(
            keys.seal("o", "x"),
            keys.seal("o", "x"),
            "a fresh nonce each time"
        );
    }

    #[test]
    fn rotation_reads_old_values_and_finds_them() -> Result<(), String> {
        let (old, new) = (SecretKeys::generate_hex(), SecretKeys::generate_hex());
        let before = SecretKeys::from_hex(&old, &[])?;
        let sealed = before.seal("o", "value");
        let after = SecretKeys::from_hex(&new, &[&old])?;
        assert_eq!(after.open("o", &sealed), Ok("value".into()));
        assert!(after.needs_resealing(&sealed));
        assert!(!after.needs_resealing(&after.seal("o", "value")));
        assert!(after.needs_resealing("a secret stored in clear"));
        Ok(())
    }

    #[test]
    fn bad_keys_are_refused_without_echoing_them() {
        let error = SecretKeys::from_hex("abc123-not-a-key", &[]).err();
        assert!(
            error.as_ref().is_some_and(|e| !e.contains("abc123")),
            "{error:?}"
        );
        assert!(format!("{:?}", keys()).len() < 80, "Debug shows ids only");
    }
}
