//! Console errors: readable pages for people, never a stack trace or a database message.

use actix_web::dev::ServiceResponse;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

/// What can go wrong while serving a console page.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Not signed in: go to the sign-in page, then come back.
    #[error("sign-in required")]
    SignInRequired {
        /// Where to return after signing in.
        next: String,
    },
    /// Signed in with a one-time password: it must be changed before anything else.
    #[error("password change required")]
    PasswordChangeRequired,
    /// The organisation requires a second factor and the admin has none yet: set it up first.
    #[error("two-step sign-in must be set up")]
    MfaEnrolmentRequired,
    /// The admin's console access ended while signed in (why, in words).
    #[error("console access ended")]
    AccessEnded(&'static str),
    /// The page or record does not exist in this tenant.
    #[error("not found")]
    NotFound,
    /// The admin's role does not allow the page or action.
    #[error("forbidden for the role {0}")]
    Forbidden(tenancy::stored::AdminRole),
    /// The form's CSRF token or origin is wrong.
    #[error("the form has expired")]
    Csrf,
    /// Input that cannot be used, with a message for the person.
    #[error("{0}")]
    BadRequest(String),
    /// The database is unavailable.
    #[error("unavailable")]
    Unavailable,
    /// Anything else; details are logged.
    #[error("internal error")]
    Internal,
}

impl From<tenancy::Error> for ConsoleError {
    fn from(error: tenancy::Error) -> Self {
        match error {
            tenancy::Error::NotFound => ConsoleError::NotFound,
            tenancy::Error::Invalid(message) => ConsoleError::BadRequest(message),
            tenancy::Error::Unavailable | tenancy::Error::Contended => ConsoleError::Unavailable,
            other => {
                tracing::error!(error = ?other, "console request failed");
                ConsoleError::Internal
            }
        }
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    css: &'static str,
    status: u16,
    title: &'a str,
    message: &'a str,
}

impl ResponseError for ConsoleError {
    fn status_code(&self) -> StatusCode {
        match self {
            ConsoleError::SignInRequired { .. }
            | ConsoleError::PasswordChangeRequired
            | ConsoleError::MfaEnrolmentRequired => StatusCode::SEE_OTHER,
            ConsoleError::AccessEnded(_) => StatusCode::FORBIDDEN,
            ConsoleError::NotFound => StatusCode::NOT_FOUND,
            ConsoleError::Csrf | ConsoleError::Forbidden(_) => StatusCode::FORBIDDEN,
            ConsoleError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ConsoleError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ConsoleError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let ConsoleError::SignInRequired { next } = self {
            let location = format!("/console/login?next={}", encode(next));
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish();
        }
        if let ConsoleError::PasswordChangeRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/console/password"))
                .finish();
        }
        if let ConsoleError::MfaEnrolmentRequired = self {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/console/mfa"))
                .finish();
        }
        let forbidden;
        let (title, message) = match self {
            ConsoleError::Forbidden(role) => {
                forbidden = format!(
                    "Your role ({}) does not allow this page or action. Ask an owner of your organisation if you need it.",
                    role.label()
                );
                ("Not allowed", forbidden.as_str())
            }
            ConsoleError::AccessEnded(message) => ("Your console access has ended", *message),
            ConsoleError::NotFound => (
                "Not found",
                "This page does not exist, or it belongs to another organisation.",
            ),
            ConsoleError::Csrf => (
                "This form has expired",
                "For your security the form could not be accepted. Go back, reload the page and try again.",
            ),
            ConsoleError::BadRequest(message) => ("Something is not right", message.as_str()),
            ConsoleError::Unavailable => (
                "Temporarily unavailable",
                "The service is busy or restarting. Try again in a moment.",
            ),
            _ => (
                "Something went wrong",
                "An unexpected error occurred. It has been logged; please try again.",
            ),
        };
        let status = self.status_code();
        let body = ErrorPage {
            css: crate::assets::css_url(),
            status: status.as_u16(),
            title,
            message,
        }
        .render()
        .unwrap_or_else(|_| message.to_owned());
        let mut response = HttpResponse::build(status);
        response
            .content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if let ConsoleError::Unavailable = self {
            // A browser does not act on it, but a script or a proxy retrying the page does.
            response.insert_header((header::RETRY_AFTER, "5"));
        }
        response.body(body)
    }
}

/// A response without the error it was made from, when it is a redirect (to sign in, or to
/// change a one-time password): those are the normal course of things, and the request logger
/// would otherwise report every one of them as a server error.
pub fn quiet_redirect<B>(response: ServiceResponse<B>) -> ServiceResponse<B> {
    if !response.status().is_redirection() || response.response().error().is_none() {
        return response;
    }
    let (req, res) = response.into_parts();
    let (head, body) = res.into_parts();
    let mut clean = HttpResponse::with_body(head.status(), body);
    *clean.headers_mut() = head.headers().clone();
    ServiceResponse::new(req, clean)
}

/// Percent-encodes a query value.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s[2..].to_owned())
        .unwrap_or_default()
}
