//! Random secrets and their digests: the one place that touches the OS random generator and
//! SHA-256 for tokens, session cookies and one-time passwords.

use sha2::{Digest as _, Sha256};

/// Letters and digits: survive copy-paste, URLs, headers and double-click selection intact.
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` characters drawn uniformly from [A-Za-z0-9] with the OS generator.
pub fn random_alphanumeric(len: usize) -> String {
    random_from(ALPHANUMERIC, len)
}

/// `len` characters drawn uniformly from `alphabet` (at most 256 ASCII symbols) with the OS
/// generator.
///
/// Rejection sampling keeps every character equally likely (256 is rarely a multiple of the
/// alphabet's size).
pub fn random_from(alphabet: &[u8], len: usize) -> String {
    let size = alphabet.len().clamp(1, 256);
    // The largest multiple of the size that fits in a byte; bytes at or above it are redrawn.
    let accept_below = 256 - 256 % size;
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rand::fill(&mut buf[..]);
        for &byte in buf.iter().filter(|&&b| usize::from(b) < accept_below) {
            if out.len() == len {
                break;
            }
            out.push(char::from(alphabet[usize::from(byte) % size]));
        }
    }
    out
}

/// The SHA-256 digest of a secret. Secrets with 256 bits of entropy need no salt or slow hash.
pub fn sha256(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares two byte strings in time that depends only on their lengths.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_alphanumeric_has_requested_length_and_alphabet() {
        let s = random_alphanumeric(100);
        assert_eq!(s.len(), 100);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(random_alphanumeric(43), random_alphanumeric(43));
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }

    #[test]
    fn sha256_matches_known_vector() {
        let digest = sha256("abc");
        assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}
