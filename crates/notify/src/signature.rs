//! Webhook signatures as Standard Webhooks defines them: the secret is `whsec_` followed by
//! base64 of random bytes; the signed content is `{webhook-id}.{webhook-timestamp}.{body}`; the
//! `webhook-signature` header is `v1,` followed by base64 of its HMAC-SHA256 under the
//! secret's bytes. A receiver checks it the same way and compares in constant time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// The prefix of every signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A new signing secret: `whsec_` and 32 random bytes in base64.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes[..]);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes))
}

/// The key bytes of a secret (`whsec_` and base64); `None` when it is not one.
fn key(secret: &str) -> Option<Vec<u8>> {
    STANDARD
        .decode(secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret))
        .ok()
}

/// The `webhook-signature` header value for this message.
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key(secret)?).ok()?;
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// Whether `header` (space-separated `v1,…` signatures) holds a valid signature of this
/// message under `secret` — what a receiver does.
pub fn verify(secret: &str, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Some(key) = key(secret) else {
        return false;
    };
    header.split(' ').any(|candidate| {
        let Some(encoded) = candidate.strip_prefix("v1,") else {
            return false;
        };
        let Ok(expected) = STANDARD.decode(encoded) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
            return false;
        };
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_a_tampered_message_does_not() {
        let secret = new_secret();
        assert!(secret.starts_with("whsec_"));
        let body = br#"{"type":"test"}"#;
        let header = sign(&secret, "msg_1", 1_700_000_000, body).unwrap_or_default();
        assert!(header.starts_with("v1,"));
        assert!(verify(&secret, "msg_1", 1_700_000_000, body, &header));
        assert!(!verify(
            &secret,
            "msg_1",
            1_700_000_000,
            br#"{"type":"tes"}"#,
            &header
        ));
        assert!(!verify(&secret, "msg_2", 1_700_000_000, body, &header));
        assert!(!verify(&secret, "msg_1", 1_700_000_001, body, &header));
        assert!(!verify(
            &new_secret(),
            "msg_1",
            1_700_000_000,
            body,
            &header
        ));
        assert!(verify(
            &secret,
            "msg_1",
            1_700_000_000,
            body,
            &format!("v1,bm9wZQ== {header}")
        ));
    }

    #[test]
    fn the_standard_webhooks_example_verifies() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let header = sign(secret, id, 1_614_265_330, body).unwrap_or_default();
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
