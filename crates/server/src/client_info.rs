//! Resolves who sent each request (the client address and, behind a trusted proxy, the
//! scheme) once, for the rate limits, the console's cookies and the activity log.

use actix_web::Error;
use actix_web::HttpMessage as _;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::HeaderName;
use actix_web::middleware::Next;
use actix_web::web;
use tenancy::Deployment;

const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Puts the request's `tenancy::RequestClient` into its extensions.
pub async fn resolve_client(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    if let (Some(peer), Some(deployment)) =
        (req.peer_addr(), req.app_data::<web::Data<Deployment>>())
    {
        let header = |name: &HeaderName| req.headers().get(name).and_then(|v| v.to_str().ok());
        let client = deployment.trusted_proxies.client(
            peer.ip(),
            header(&X_FORWARDED_FOR),
            header(&X_FORWARDED_PROTO),
        );
        req.extensions_mut().insert(client);
    }
    next.call(req).await
}
