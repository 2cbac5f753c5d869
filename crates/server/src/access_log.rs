//! The access log: one line per request at `debug`, and at `warn` for answers of 5xx.
//!
//! It opens no span per request: building a span with the request's fields (what
//! `tracing-actix-web` does) cost about a tenth of the server's CPU per SCIM lookup, for lines
//! that are off at the default `info` level. Every SCIM request is in the activity log anyway.

use std::time::Instant;

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// Logs the request once its answer is known.
pub async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let method = req.method().clone();
    // A reference-counted copy, not a new string per request; only its path is logged (a query
    // string may carry filter values).
    let uri = req.uri().clone();
    let path = uri.path();
    let response = next.call(req).await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match &response {
        Ok(response) if response.status().is_server_error() => {
            tracing::warn!(%method, %path, status = response.status().as_u16(), elapsed_ms, "request failed");
        }
        Ok(response) => {
            tracing::debug!(%method, %path, status = response.status().as_u16(), elapsed_ms, "request");
        }
        Err(error) => {
            tracing::warn!(%method, %path, %error, elapsed_ms, "request failed");
        }
    }
    response
}
