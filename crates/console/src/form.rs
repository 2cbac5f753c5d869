//! Form bodies, read the one way every console form is read: within a size limit and a time
//! limit, refused in plain words when they carry a NUL character (which PostgreSQL cannot
//! store: it is refused everywhere at the edge, never stripped), then parsed.
//!
//! Every form that changes something is a [`CsrfForm`]: the signed-in admin together with the
//! form, whose `csrf` field must be the session's token. A handler for a state-changing route
//! cannot get at the admin any other way than through it (or [`crate::pages::import`]'s
//! upload, which checks the same token), and the console refuses unsafe requests to any route
//! not listed in [`crate::routes::ACTIONS`], each of which a test posts to without a token.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use serde::de::DeserializeOwned;
use tenancy::Deployment;
use tenancy::deployment::DEFAULT_BODY_TIMEOUT;

use crate::error::ConsoleError;
use crate::session::Console;

/// The body of a form that carries only its CSRF token (a button: Revoke now, Pause, Link…).
#[derive(Debug, serde::Deserialize)]
pub struct EmptyForm {}

/// The largest form accepted.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// A form (`application/x-www-form-urlencoded`) parsed into `T`, without a session: the
/// sign-in form (which carries its own double-submit token) and the end-user pages.
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
        let body = read_body(req, payload);
        Box::pin(async move { parse(&body.await?).map(Form) })
    }
}

/// A state-changing console form: the signed-in admin and the form `T`, whose `csrf` field
/// was checked against the admin's session (a missing one is refused like a wrong one: 403).
#[derive(Debug)]
pub struct CsrfForm<T> {
    /// The admin who sent it.
    pub console: Console,
    /// The form's other fields.
    pub form: T,
}

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The session first: a form sent after the session ended leads to sign-in, not 403.
        let console = Console::from_request(req, &mut Payload::None);
        let body = read_body(req, payload);
        Box::pin(async move {
            let console = console.await?;
            let bytes = body.await?;
            console.check_csrf(&field(&bytes, "csrf").unwrap_or_default())?;
            Ok(CsrfForm {
                console,
                form: parse(&bytes)?,
            })
        })
    }
}

/// Reads a form body within the size and time limits, refusing NUL.
fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<web::Bytes, ConsoleError>> + 'static {
    let body = web::Bytes::from_request(req, payload);
    // A client sending a byte now and then is cut off rather than holding the connection.
    let timeout = req
        .app_data::<web::Data<Deployment>>()
        .map_or(DEFAULT_BODY_TIMEOUT, |d| d.body_timeout);
    async move {
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
        Ok(bytes)
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ConsoleError> {
    serde_urlencoded::from_bytes(bytes).map_err(|_| unreadable())
}

/// The value of one field of a urlencoded body.
fn field(bytes: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(bytes)
        .ok()?
        .into_iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value)
}

fn unreadable() -> ConsoleError {
    ConsoleError::BadRequest("The form could not be read.".into())
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
    use super::{contains_nul, field};

    #[test]
    fn nul_is_found_raw_and_encoded() {
        assert!(contains_nul(b"q=a%00b"));
        assert!(contains_nul(b"q=a\0b"));
        assert!(!contains_nul(b"q=a%200"));
        assert!(!contains_nul(b"q=100%25"));
    }

    #[test]
    fn a_field_is_read_from_the_body() {
        assert_eq!(field(b"a=1&csrf=x%2By&b=2", "csrf").as_deref(), Some("x+y"));
        assert_eq!(field(b"a=1", "csrf"), None);
    }
}
