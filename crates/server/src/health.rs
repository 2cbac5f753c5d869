//! Liveness and readiness probes for load balancers and orchestrators.

use actix_web::{HttpResponse, get, web};
use scim_api::ScimState;
use tenancy::Db;

/// `/healthz`: the process is up and serving HTTP.
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// `/readyz`: the database answers; 503 otherwise, so that traffic goes to a healthy replica.
#[get("/readyz")]
pub async fn readyz(db: web::Data<Db>) -> HttpResponse {
    if db.ping().await {
        HttpResponse::Ok()
            .content_type("text/plain")
            .body("ready\n")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable\n")
    }
}

/// `/healthz/batching`: how much of the SCIM work was batched since start (requests, batches,
/// the largest batch), for the operator and the benchmark. Counters only: no tenant data.
#[get("/healthz/batching")]
pub async fn batching(scim: web::Data<ScimState>) -> HttpResponse {
    let figures: serde_json::Map<String, serde_json::Value> = scim
        .batches
        .figures()
        .into_iter()
        .map(|(kind, figures)| (kind.to_owned(), serde_json::json!(figures)))
        .collect();
    HttpResponse::Ok().json(figures)
}
