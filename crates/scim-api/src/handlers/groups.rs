//! `/Groups` handlers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{if_match, list_query};
use crate::auth::ScimAuth;
use crate::error::ScimError;
use crate::json::{ScimBody, respond, respond_resource};
use crate::protocol::list::ListQuery;
use crate::service::{ScimState, WriteLog, groups, mark_recorded};

/// GET /Groups
pub async fn list_groups(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let query = list_query(&req)?;
    Ok(respond(
        StatusCode::OK,
        &groups::list(&state, auth.tenant, &query).await?,
    ))
}

/// POST /Groups/.search: the same query as GET /Groups, in a SearchRequest body.
pub async fn search_groups(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    body: ScimBody,
) -> Result<HttpResponse, ScimError> {
    let query = ListQuery::from_search_request(&body.into_value()?)?;
    Ok(respond(
        StatusCode::OK,
        &groups::list(&state, auth.tenant, &query).await?,
    ))
}

/// POST /Groups
pub async fn create_group(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    body: ScimBody,
) -> Result<HttpResponse, ScimError> {
    let group = groups::create(
        &state,
        auth.tenant,
        body.into_value()?,
        WriteLog::from_request(&req),
    )
    .await?;
    mark_recorded(&req);
    Ok(respond_resource(StatusCode::CREATED, &group))
}

/// GET /Groups/{id}
pub async fn get_group(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimError> {
    let query = list_query(&req)?;
    Ok(respond_resource(
        StatusCode::OK,
        &groups::get(&state, auth.tenant, &path.1, &query).await?,
    ))
}

/// PUT /Groups/{id}
pub async fn replace_group(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: ScimBody,
) -> Result<HttpResponse, ScimError> {
    let group = groups::replace(
        &state,
        auth.tenant,
        &path.1,
        body.into_value()?,
        if_match(&req),
        WriteLog::from_request(&req),
    )
    .await?;
    mark_recorded(&req);
    Ok(respond_resource(StatusCode::OK, &group))
}

/// PATCH /Groups/{id}
pub async fn patch_group(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: ScimBody,
) -> Result<HttpResponse, ScimError> {
    groups::patch(
        &state,
        auth.tenant,
        &path.1,
        body.into_value()?,
        if_match(&req),
        WriteLog::from_request(&req),
    )
    .await?;
    mark_recorded(&req);
    Ok(HttpResponse::NoContent().finish())
}

/// DELETE /Groups/{id}
pub async fn delete_group(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimError> {
    groups::delete(
        &state,
        auth.tenant,
        &path.1,
        if_match(&req),
        WriteLog::from_request(&req),
    )
    .await?;
    mark_recorded(&req);
    Ok(HttpResponse::NoContent().finish())
}
