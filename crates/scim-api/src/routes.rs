//! The routes of the SCIM API, mounted by the server.

use actix_web::web;

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
                .app_data(payload_config())
                .route(
                    "/ServiceProviderConfig",
                    web::get().to(discovery::get_service_provider_config),
                )
                .route(
                    "/ResourceTypes",
                    web::get().to(discovery::list_resource_types),
                )
                .route(
                    "/ResourceTypes/{name}",
                    web::get().to(discovery::get_resource_type),
                )
                .route("/Schemas", web::get().to(discovery::list_schemas))
                .route("/Schemas/{id}", web::get().to(discovery::get_schema))
                .route("/Users", web::get().to(users::list_users))
                .route("/Users", web::post().to(users::create_user))
                .route("/Users/{id}", web::get().to(users::get_user))
                .route("/Users/{id}", web::put().to(users::replace_user))
                .route("/Users/{id}", web::patch().to(users::patch_user))
                .route("/Users/{id}", web::delete().to(users::delete_user))
                .route("/Groups", web::get().to(groups::list_groups))
                .route("/Groups", web::post().to(groups::create_group))
                .route("/Groups/{id}", web::get().to(groups::get_group))
                .route("/Groups/{id}", web::put().to(groups::replace_group))
                .route("/Groups/{id}", web::patch().to(groups::patch_group))
                .route("/Groups/{id}", web::delete().to(groups::delete_group))
                .route("/Bulk", web::to(discovery::not_offered))
                .route("/Me", web::to(discovery::not_offered))
                .default_service(web::to(discovery::unknown_endpoint)),
        );
    }
}
