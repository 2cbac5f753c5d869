//! Discovery handlers: `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`, and the answers
//! for endpoints this service provider does not offer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scim_protocol::schema::ResourceKind;

use crate::auth::ScimAuth;
use crate::error::ScimError;
use crate::json::respond;
use crate::protocol::discovery::{
    resource_type, resource_types, schema_document, schemas, service_provider_config,
};
use crate::protocol::list::list_response;
use crate::service::ScimState;

/// GET /ServiceProviderConfig
pub async fn get_service_provider_config(
    auth: ScimAuth,
    state: web::Data<ScimState>,
) -> HttpResponse {
    respond(
        StatusCode::OK,
        &service_provider_config(&state.locations(auth.tenant)),
    )
}

/// GET /ResourceTypes
pub async fn list_resource_types(auth: ScimAuth, state: web::Data<ScimState>) -> HttpResponse {
    let types = resource_types(&state.locations(auth.tenant));
    let total = i64::try_from(types.len()).unwrap_or_default();
    respond(StatusCode::OK, &list_response(total, 1, types))
}

/// GET /ResourceTypes/{name}
pub async fn get_resource_type(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimError> {
    let kind = match path.1.as_str() {
        "User" => ResourceKind::User,
        "Group" => ResourceKind::Group,
        other => {
            return Err(ScimError::not_found(format!(
                "Resource type \"{other}\" not found."
            )));
        }
    };
    Ok(respond(
        StatusCode::OK,
        &resource_type(kind, &state.locations(auth.tenant)),
    ))
}

/// GET /Schemas
pub async fn list_schemas(auth: ScimAuth, state: web::Data<ScimState>) -> HttpResponse {
    let locations = state.locations(auth.tenant);
    let documents: Vec<_> = schemas()
        .iter()
        .map(|schema| schema_document(schema, &locations))
        .collect();
    let total = i64::try_from(documents.len()).unwrap_or_default();
    respond(StatusCode::OK, &list_response(total, 1, documents))
}

/// GET /Schemas/{id}
pub async fn get_schema(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimError> {
    let schema = schemas()
        .into_iter()
        .find(|schema| schema.id.eq_ignore_ascii_case(&path.1))
        .ok_or_else(|| ScimError::not_found(format!("Schema \"{}\" not found.", path.1)))?;
    Ok(respond(
        StatusCode::OK,
        &schema_document(schema, &state.locations(auth.tenant)),
    ))
}

/// A method an endpoint does not have: 405 with `Allow`.
pub async fn method_not_allowed(
    _auth: ScimAuth,
    req: HttpRequest,
    allow: &'static str,
) -> Result<HttpResponse, ScimError> {
    Err(ScimError::method_not_allowed(req.method().as_str(), allow))
}

/// /Bulk, /Me and a search across all resource types (`/.search`): not offered
/// (ServiceProviderConfig says bulk is unsupported; RFC 7644 §3.12 answers 501).
pub async fn not_offered(_auth: ScimAuth) -> Result<HttpResponse, ScimError> {
    Err(ScimError::not_implemented(
        "This service provider does not support this endpoint (bulk, /Me and searching all resource types at once are not offered; use /Users/.search or /Groups/.search).",
    ))
}

/// Any other path or method under the tenant base.
pub async fn unknown_endpoint(_auth: ScimAuth) -> Result<HttpResponse, ScimError> {
    Err(ScimError::not_found(
        "No such SCIM endpoint. Endpoints: /Users, /Groups, /ServiceProviderConfig, /ResourceTypes, /Schemas.",
    ))
}
