//! `/Users` handlers.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::{if_match, list_query};
use crate::auth::ScimAuth;
use crate::error::ScimError;
use crate::json::{ScimBody, respond, respond_resource};
use crate::protocol::list::ListQuery;
use crate::service::{ScimState, WriteLog, mark_recorded, users};

/// GET /Users
pub async fn list_users(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let query = list_query(&req)?;
    Ok(respond(
        StatusCode::OK,
        &users::list(&state, auth.tenant, &query).await?,
    ))
}

/// POST /Users/.search: the same query as GET /Users, in a SearchRequest body.
pub async fn search_users(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    body: ScimBody,
) -> Result<HttpResponse, ScimError> {
    let query = ListQuery::from_search_request(&body.into_value()?)?;
    Ok(respond(
        StatusCode::OK,
        &users::list(&state, auth.tenant, &query).await?,
    ))
}

/// POST /Users
pub async fn create_user(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    body: ScimBody,
) -> Result<HttpResponse, ScimError> {
    let user = users::create(
        &state,
        auth.tenant,
        body.into_value()?,
        WriteLog::from_request(&req),
    )
    .await?;
    mark_recorded(&req);
    Ok(respond_resource(StatusCode::CREATED, &user))
}

/// GET /Users/{id}
pub async fn get_user(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimError> {
    let query = list_query(&req)?;
    Ok(respond_resource(
        StatusCode::OK,
        &users::get(&state, auth.tenant, &path.1, &query).await?,
    ))
}

/// PUT /Users/{id}
pub async fn replace_user(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: ScimBody,
) -> Result<HttpResponse, ScimError> {
    let user = users::replace(
        &state,
        auth.tenant,
        &path.1,
        body.into_value()?,
        if_match(&req),
        WriteLog::from_request(&req),
    )
    .await?;
    mark_recorded(&req);
    Ok(respond_resource(StatusCode::OK, &user))
}

/// PATCH /Users/{id}
pub async fn patch_user(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: ScimBody,
) -> Result<HttpResponse, ScimError> {
    let user = users::patch(
        &state,
        auth.tenant,
        &path.1,
        body.into_value()?,
        if_match(&req),
        WriteLog::from_request(&req),
    )
    .await?;
    mark_recorded(&req);
    Ok(respond_resource(StatusCode::OK, &user))
}

/// DELETE /Users/{id}
pub async fn delete_user(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ScimError> {
    users::delete(
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
