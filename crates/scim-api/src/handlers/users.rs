//! `/Users` handlers: extract, call one service function, answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::answer::{ResourcePath, ScimAnswer, WriteBody, WriteOnly};
use super::{IfMatch, list_query};
use crate::auth::ScimAuth;
use crate::error::ScimError;
use crate::json::{ScimBody, respond};
use crate::protocol::list::ListQuery;
use crate::service::{ScimState, users};

/// GET /Users
pub async fn list_users(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let query = list_query(&req)?;
    Ok(respond(
        StatusCode::OK,
        &users::list(&state, auth.into(), &query).await?,
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
        &users::list(&state, auth.into(), &query).await?,
    ))
}

/// POST /Users
pub async fn create_user(
    state: web::Data<ScimState>,
    write: WriteBody,
) -> Result<ScimAnswer, ScimError> {
    let created = users::create(
        &state,
        write.auth.into(),
        write.body.into_value()?,
        write.log,
    )
    .await?;
    Ok(ScimAnswer::written(StatusCode::CREATED, created))
}

/// GET /Users/{id}
pub async fn get_user(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<ResourcePath>,
) -> Result<ScimAnswer, ScimError> {
    let query = list_query(&req)?;
    Ok(ScimAnswer::read(
        users::get(&state, auth.into(), &path.id, &query).await?,
    ))
}

/// PUT /Users/{id}
pub async fn replace_user(
    state: web::Data<ScimState>,
    path: web::Path<ResourcePath>,
    IfMatch(if_match): IfMatch,
    write: WriteBody,
) -> Result<ScimAnswer, ScimError> {
    let replaced = users::replace(
        &state,
        write.auth.into(),
        &path.id,
        write.body.into_value()?,
        if_match,
        write.log,
    )
    .await?;
    Ok(ScimAnswer::written(StatusCode::OK, replaced))
}

/// PATCH /Users/{id}
pub async fn patch_user(
    state: web::Data<ScimState>,
    path: web::Path<ResourcePath>,
    IfMatch(if_match): IfMatch,
    write: WriteBody,
) -> Result<ScimAnswer, ScimError> {
    let patched = users::patch(
        &state,
        write.auth.into(),
        &path.id,
        write.body.into_value()?,
        if_match,
        write.log,
    )
    .await?;
    Ok(ScimAnswer::written(StatusCode::OK, patched))
}

/// DELETE /Users/{id}
pub async fn delete_user(
    state: web::Data<ScimState>,
    path: web::Path<ResourcePath>,
    IfMatch(if_match): IfMatch,
    write: WriteOnly,
) -> Result<ScimAnswer, ScimError> {
    users::delete(&state, write.auth.into(), &path.id, if_match, write.log).await?;
    Ok(ScimAnswer::written_empty())
}
