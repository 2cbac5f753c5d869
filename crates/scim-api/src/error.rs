//! SCIM errors (RFC 7644 §3.12): the one error type of this crate, its JSON body, and how the
//! storage layer's errors map onto it. Causes are logged, never put into `detail`.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

/// The `schemas` value of every error body.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM error response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {scim_type:?}: {detail}")]
pub struct ScimError {
    /// HTTP status.
    pub status: StatusCode,
    /// RFC 7644 `scimType`, where one applies.
    pub scim_type: Option<&'static str>,
    /// What went wrong, in words for the IdP's administrator.
    pub detail: String,
    /// The methods the resource does allow, sent as `Allow` with a 405.
    pub allow: Option<&'static str>,
    /// Seconds after which the client may try again, sent as `Retry-After` (429 and 503).
    pub retry_after: Option<u64>,
    /// The database aborted the work to break a deadlock: it may be tried again at once.
    pub contended: bool,
}

/// How long an identity provider is asked to wait when the database is away or busy.
pub const UNAVAILABLE_RETRY_AFTER_SECONDS: u64 = 5;

impl ScimError {
    fn new(status: StatusCode, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        Self {
            status,
            scim_type,
            detail: detail.into(),
            allow: None,
            retry_after: None,
            contended: false,
        }
    }

    /// 400 with a scimType.
    pub fn bad_request(scim_type: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, Some(scim_type), detail)
    }

    /// 400 `invalidSyntax`: the body is not JSON or not the expected shape.
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request("invalidSyntax", detail)
    }

    /// 400 `invalidValue`: a value is missing or of the wrong type.
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request("invalidValue", detail)
    }

    /// 400 `invalidFilter`.
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request("invalidFilter", detail)
    }

    /// 400 `mutability`: a read-only or immutable attribute was written.
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request("mutability", detail)
    }

    /// 401: no usable bearer token. Answered with `WWW-Authenticate: Bearer`.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, None, detail)
    }

    /// 403: authenticated, but not allowed.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, None, detail)
    }

    /// 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, None, detail)
    }

    /// 405: the endpoint exists but not for this method; `allow` lists the methods it has.
    pub fn method_not_allowed(method: &str, allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(
                StatusCode::METHOD_NOT_ALLOWED,
                None,
                format!("{method} is not supported on this endpoint; use {allow}."),
            )
        }
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, Some("uniqueness"), detail)
    }

    /// 412: `If-Match` did not match the current version.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PRECONDITION_FAILED, None, detail)
    }

    /// 413: the body is over the limit.
    pub fn payload_too_large(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::PAYLOAD_TOO_LARGE, None, detail)
    }

    /// 501: a feature this service provider does not offer (bulk, /Me).
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_IMPLEMENTED, None, detail)
    }

    /// 503: the database is unavailable or busy; the IdP retries after `Retry-After`.
    pub fn unavailable() -> Self {
        Self {
            retry_after: Some(UNAVAILABLE_RETRY_AFTER_SECONDS),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "The service is temporarily unavailable; retry shortly.",
            )
        }
    }

    /// 503: the tenant's admin paused provisioning; the IdP retries after `Retry-After` and
    /// loses nothing.
    pub fn paused(seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                None,
                "Provisioning is paused by the tenant's admin; retry later (nothing sent was applied).",
            )
        }
    }

    /// 429: too many failed attempts; the client may try again in `seconds`.
    pub fn too_many_requests(detail: impl Into<String>, seconds: u64) -> Self {
        Self {
            retry_after: Some(seconds.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, None, detail)
        }
    }

    /// 408: the request body did not arrive in time.
    pub fn request_timeout(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::REQUEST_TIMEOUT, None, detail)
    }

    /// 500, with nothing of the cause.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, None, "internal error")
    }

    /// The RFC 7644 §3.12 body.
    pub fn body(&self) -> serde_json::Value {
        error_body(self.status.as_u16(), self.scim_type, &self.detail)
    }
}

/// An RFC 7644 §3.12 error body.
pub fn error_body(status: u16, scim_type: Option<&str>, detail: &str) -> serde_json::Value {
    let mut body = json!({
        "schemas": [ERROR_SCHEMA],
        "status": status.to_string(),
        "detail": detail,
    });
    if let (Some(scim_type), Some(map)) = (scim_type, body.as_object_mut()) {
        map.insert("scimType".into(), scim_type.into());
    }
    body
}

impl ResponseError for ScimError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        response.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(crate::json::SCIM_CONTENT_TYPE),
        ));
        if let Some(allow) = self.allow {
            response.insert_header((header::ALLOW, HeaderValue::from_static(allow)));
        }
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, HeaderValue::from(seconds)));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scim\""),
            ));
        }
        response.body(crate::json::to_bytes(&self.body()))
    }
}

impl tenancy::IsContended for ScimError {
    fn is_contended(&self) -> bool {
        self.contended
    }
}

impl From<tenancy::Error> for ScimError {
    fn from(error: tenancy::Error) -> Self {
        match error {
            tenancy::Error::NotFound => ScimError::not_found("Resource not found."),
            tenancy::Error::Conflict { constraint } => conflict(&constraint),
            tenancy::Error::Invalid(message) => ScimError::invalid_value(message),
            tenancy::Error::Unavailable => ScimError::unavailable(),
            tenancy::Error::Contended => ScimError {
                contended: true,
                ..ScimError::unavailable()
            },
            other => {
                tracing::error!(error = ?other, "SCIM request failed");
                ScimError::internal()
            }
        }
    }
}

/// A unique index said no: name what clashed in the IdP's terms.
fn conflict(constraint: &str) -> ScimError {
    match constraint {
        "users_tenant_user_name_key" => ScimError::uniqueness(
            "A user with this userName already exists in this tenant (userName is unique regardless of case).",
        ),
        "groups_tenant_display_name_key" => ScimError::uniqueness(
            "A group with this displayName already exists in this tenant (names are unique regardless of case).",
        ),
        "version" => ScimError::precondition_failed(
            "The resource was changed by another request; fetch it and retry.",
        ),
        other => ScimError::uniqueness(format!(
            "The value conflicts with an existing resource ({other})."
        )),
    }
}

impl From<scim_protocol::FilterError> for ScimError {
    fn from(error: scim_protocol::FilterError) -> Self {
        ScimError::bad_request(error.scim_type(), error.to_string())
    }
}

impl From<scim_protocol::PatchError> for ScimError {
    fn from(error: scim_protocol::PatchError) -> Self {
        ScimError::bad_request(error.scim_type(), error.to_string())
    }
}
