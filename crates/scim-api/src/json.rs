//! SCIM JSON in and out: `application/scim+json` responses, and request bodies read with a size
//! limit and parsed into JSON with SCIM errors for every way that can fail.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, HttpResponse, web};
use serde_json::Value;
use tokio::sync::{Semaphore, SemaphorePermit};

use crate::error::ScimError;
use crate::events::RequestPayload;

/// The media type of every SCIM response (RFC 7644 §3.1).
pub const SCIM_CONTENT_TYPE: &str = "application/scim+json";

/// The largest request body accepted, published as `maxPayloadSize` in ServiceProviderConfig.
pub const MAX_PAYLOAD_BYTES: usize = 4 * 1024 * 1024;

/// A request body parsed as JSON. A copy with secrets removed is left in the request for the
/// activity log.
///
/// Actix runs a handler's extractors side by side, so a body error could otherwise answer
/// before the bearer token is checked (a 400 or 413 to a caller who should get 401). The body's
/// outcome is therefore kept here and surfaced by [`ScimBody::into_value`], which handlers call
/// after authentication succeeded.
#[derive(Debug, Clone)]
pub struct ScimBody(Result<Value, ScimError>);

impl ScimBody {
    /// The parsed body, or the SCIM error that reading or parsing it gave.
    pub fn into_value(self) -> Result<Value, ScimError> {
        self.0
    }
}

impl FromRequest for ScimBody {
    type Error = ScimError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ScimError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let bytes = web::Bytes::from_request(&req, payload);
        let size = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(MAX_PAYLOAD_BYTES)
            .min(MAX_PAYLOAD_BYTES);
        Box::pin(async move {
            // A large body is read and parsed only when the memory budget allows; the share
            // is held until the request is done with the document (it lives in the request).
            if size > SMALL_BODY_BYTES {
                let kib = u32::try_from(size.div_ceil(1024)).unwrap_or(u32::MAX);
                if let Ok(share) = LARGE_BODY_BUDGET.acquire_many(kib).await {
                    req.extensions_mut().insert(BodyShare(share));
                }
            }
            let timeout = req
                .app_data::<web::Data<crate::ScimState>>()
                .map_or(tenancy::deployment::DEFAULT_BODY_TIMEOUT, |state| {
                    state.deployment.body_timeout
                });
            let body = match tokio::time::timeout(timeout, bytes).await {
                Ok(bytes) => read_json(&req, bytes).await,
                Err(_) => Err(ScimError::request_timeout(format!(
                    "The request body did not arrive within {} seconds.",
                    timeout.as_secs_f64()
                ))),
            };
            Ok(ScimBody(body))
        })
    }
}

/// Bodies up to this size (nearly every request an identity provider sends) are read at once.
const SMALL_BODY_BYTES: usize = 64 * 1024;
/// Kilobytes of large bodies read and parsed at the same time, per process: parsed JSON takes
/// many times its text (a 4 MiB push of 70,000 members peaks near 100 MiB), so 16 concurrent
/// pushes would need well over a gigabyte. One body of the maximum size at a time (or several
/// smaller ones) keeps the server's memory bounded; the others wait their turn, which costs a
/// fraction of a second each.
const LARGE_BODY_KIB: usize = MAX_PAYLOAD_BYTES / 1024;
static LARGE_BODY_BUDGET: Semaphore = Semaphore::const_new(LARGE_BODY_KIB);

/// A request's share of the large-body budget, released when the request is dropped.
struct BodyShare(#[expect(dead_code, reason = "held for its Drop")] SemaphorePermit<'static>);

/// Parses the received body as JSON, with a SCIM error for every way that can fail. A large
/// body is parsed on the blocking pool: tens of milliseconds of parsing on an async worker
/// would hold up every other request of that worker.
async fn read_json(
    req: &HttpRequest,
    bytes: Result<web::Bytes, actix_web::Error>,
) -> Result<Value, ScimError> {
    let bytes = bytes.map_err(|e| match e.as_error::<PayloadError>() {
        Some(PayloadError::Overflow) => too_large(),
        _ if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        _ => ScimError::invalid_syntax("The request body could not be read."),
    })?;
    let size = bytes.len();
    let value = if size > SMALL_BODY_BYTES {
        tokio::task::spawn_blocking(move || parse(&bytes))
            .await
            .map_err(|_| ScimError::internal())??
    } else {
        parse(&bytes)?
    };
    let payload = RequestPayload::of(req, &value, size);
    req.extensions_mut().insert(payload);
    Ok(value)
}

/// The JSON document of a body.
fn parse(bytes: &[u8]) -> Result<Value, ScimError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ScimError::invalid_syntax(
            "The request body is empty; a JSON object was expected.",
        ));
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        ScimError::invalid_syntax(format!("The request body is not valid JSON: {e}."))
    })?;
    if contains_nul(&value) {
        // PostgreSQL text and jsonb cannot hold U+0000; refuse it here rather than fail later.
        return Err(ScimError::invalid_value(
            "Text in the request body must not contain the NUL character (\\u0000).",
        ));
    }
    Ok(value)
}

/// Whether any key or string in `value` contains U+0000.
fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key.contains('\0') || contains_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

fn too_large() -> ScimError {
    ScimError::payload_too_large(format!(
        "The request body is larger than the limit of {MAX_PAYLOAD_BYTES} bytes."
    ))
}

/// The actix body limit matching [`MAX_PAYLOAD_BYTES`].
pub fn payload_config() -> web::PayloadConfig {
    web::PayloadConfig::new(MAX_PAYLOAD_BYTES)
}

/// A SCIM JSON response.
pub fn respond(status: StatusCode, body: &Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static(SCIM_CONTENT_TYPE),
        ))
        .body(to_bytes(body))
}

/// The compact JSON text of a document. `serde_json::to_vec` writes straight into the buffer;
/// `Display` (`to_string`) goes through the formatting machinery and was a tenth of the CPU of
/// a page of users.
pub(crate) fn to_bytes(body: &Value) -> Vec<u8> {
    // Serialising a `Value` cannot fail (its keys are strings).
    serde_json::to_vec(body).unwrap_or_default()
}

/// A SCIM JSON response with extra headers (a resource's `ETag` and `Location`); a value that
/// cannot be a header (it never should) is left out rather than failing the answer.
pub fn respond_with_headers(
    status: StatusCode,
    body: &Value,
    headers: Vec<(header::HeaderName, String)>,
) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((
        header::CONTENT_TYPE,
        HeaderValue::from_static(SCIM_CONTENT_TYPE),
    ));
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.insert_header((name, value));
        }
    }
    response.body(to_bytes(body))
}
