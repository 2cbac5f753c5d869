//! Form bodies, read the one way every console form is read: within a size limit and a time
//! limit, refused in plain words when they carry a NUL character (which PostgreSQL cannot
//! store: it is refused everywhere at the edge, never stripped), then parsed.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use tenancy::Deployment;
use tenancy::deployment::DEFAULT_BODY_TIMEOUT;

use crate::error::ConsoleError;

/// The largest form accepted.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// A form (`application/x-www-form-urlencoded`) parsed into `T`.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<T> Form<T> {
    /// The parsed form.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Form<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = web::Bytes::from_request(req, payload);
        // A client sending a byte now and then is cut off rather than holding the connection.
        let timeout = req
            .app_data::<web::Data<Deployment>>()
            .map_or(DEFAULT_BODY_TIMEOUT, |d| d.body_timeout);
        Box::pin(async move {
            let unreadable = || ConsoleError::BadRequest("The form could not be read.".into());
            let bytes = tokio::time::timeout(timeout, body)
                .await
                .map_err(|_| {
                    ConsoleError::BadRequest(
                        "The form took too long to arrive. Check your connection and send it again."
                            .into(),
                    )
                })?
                .map_err(|_| unreadable())?;
            if bytes.len() > MAX_FORM_BYTES {
                return Err(ConsoleError::BadRequest(
                    "The form is too large to be accepted.".into(),
                ));
            }
            if contains_nul(&bytes) {
                return Err(nul_refused());
            }
            serde_urlencoded::from_bytes(&bytes)
                .map(Form)
                .map_err(|_| unreadable())
        })
    }
}

/// The refusal of text with a NUL character.
pub fn nul_refused() -> ConsoleError {
    ConsoleError::BadRequest(
        "The text you sent contains a NUL character (an invisible control character), which cannot be stored. Remove it and try again."
            .into(),
    )
}

/// Whether urlencoded text holds a NUL, raw or as `%00`.
pub fn contains_nul(bytes: &[u8]) -> bool {
    bytes.contains(&0)
        || bytes
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
}

#[cfg(test)]
mod tests {
    use super::contains_nul;

    #[test]
    fn nul_is_found_raw_and_encoded() {
        assert!(contains_nul(b"q=a%00b"));
        assert!(contains_nul(b"q=a\0b"));
        assert!(!contains_nul(b"q=a%200"));
        assert!(!contains_nul(b"q=100%25"));
    }
}
