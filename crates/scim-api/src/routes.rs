//! The routes of the SCIM API, mounted by the server.
//!
//! Each endpoint is one resource: its methods, and a default answer of 405 with `Allow` for any
//! other method (after authentication, like everything under the tenant base).

use actix_web::http::header;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, Resource, web};

use crate::auth::ScimAuth;
use crate::events::RecordActivity;
use crate::handlers::{discovery, groups, users};
use crate::json::payload_config;
use crate::service::ScimState;

/// Mounts `/scim/v2/{tenant}/...`. `state` must also be registered as app data.
pub fn configure(state: &ScimState) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
    let sink = state.events.clone();
    move |cfg: &mut web::ServiceConfig| {
        cfg.service(
            web::scope("/scim/v2/{tenant}")
                .wrap(RecordActivity::new(sink))
                // Answers hold directory data and are for the identity provider only: never
                // stored by a cache, never sniffed into another type by a browser.
                .wrap(
                    DefaultHeaders::new()
                        .add((header::CACHE_CONTROL, "no-store"))
                        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff")),
                )
                .app_data(payload_config())
                // Users and Groups first: Okta's traffic is there, and each pattern tried costs a match.
                .service(
                    endpoint("/Users", "GET, POST")
                        .route(web::get().to(users::list_users))
                        .route(web::post().to(users::create_user)),
                )
                // Before /Users/{id}, which would otherwise take ".search" for an id.
                .service(
                    endpoint("/Users/.search", "POST").route(web::post().to(users::search_users)),
                )
                .service(
                    endpoint("/Users/{id}", "GET, PUT, PATCH, DELETE")
                        .route(web::get().to(users::get_user))
                        .route(web::put().to(users::replace_user))
                        .route(web::patch().to(users::patch_user))
                        .route(web::delete().to(users::delete_user)),
                )
                .service(
                    endpoint("/Groups", "GET, POST")
                        .route(web::get().to(groups::list_groups))
                        .route(web::post().to(groups::create_group)),
                )
                .service(
                    endpoint("/Groups/.search", "POST")
                        .route(web::post().to(groups::search_groups)),
                )
                .service(
                    endpoint("/Groups/{id}", "GET, PUT, PATCH, DELETE")
                        .route(web::get().to(groups::get_group))
                        .route(web::put().to(groups::replace_group))
                        .route(web::patch().to(groups::patch_group))
                        .route(web::delete().to(groups::delete_group)),
                )
                .service(
                    endpoint("/ServiceProviderConfig", "GET")
                        .route(web::get().to(discovery::get_service_provider_config)),
                )
                .service(
                    endpoint("/ResourceTypes", "GET")
                        .route(web::get().to(discovery::list_resource_types)),
                )
                .service(
                    endpoint("/ResourceTypes/{name}", "GET")
                        .route(web::get().to(discovery::get_resource_type)),
                )
                .service(endpoint("/Schemas", "GET").route(web::get().to(discovery::list_schemas)))
                .service(
                    endpoint("/Schemas/{id}", "GET").route(web::get().to(discovery::get_schema)),
                )
                .route("/.search", web::to(discovery::not_offered))
                .route("/Bulk", web::to(discovery::not_offered))
                .route("/Me", web::to(discovery::not_offered))
                .default_service(web::to(discovery::unknown_endpoint)),
        );
    }
}

/// An endpoint whose other methods are answered with 405 and `Allow: allow`.
fn endpoint(path: &str, allow: &'static str) -> Resource {
    web::resource(path).default_service(web::to(move |auth: ScimAuth, req: HttpRequest| {
        discovery::method_not_allowed(auth, req, allow)
    }))
}
