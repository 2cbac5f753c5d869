//! `/Groups` handlers: extract, call one service function, answer.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::answer::{ResourcePath, ScimAnswer, WriteBody, WriteOnly};
use super::{IfMatch, list_query};
use crate::auth::ScimAuth;
use crate::error::ScimError;
use crate::json::{ScimBody, respond};
use crate::protocol::list::ListQuery;
use crate::service::{ScimState, groups};

/// GET /Groups
pub async fn list_groups(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
) -> Result<HttpResponse, ScimError> {
    let query = list_query(&req)?;
    Ok(respond(
        StatusCode::OK,
        &groups::list(&state, auth.into(), &query).await?,
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
        &groups::list(&state, auth.into(), &query).await?,
    ))
}

/// POST /Groups
pub async fn create_group(
    state: web::Data<ScimState>,
    write: WriteBody,
) -> Result<ScimAnswer, ScimError> {
    let created = groups::create(
        &state,
        write.auth.into(),
        write.body.into_value()?,
        write.log,
    )
    .await?;
    Ok(ScimAnswer::written(StatusCode::CREATED, created))
}

/// GET /Groups/{id}
pub async fn get_group(
    auth: ScimAuth,
    state: web::Data<ScimState>,
    req: HttpRequest,
    path: web::Path<ResourcePath>,
) -> Result<ScimAnswer, ScimError> {
    let query = list_query(&req)?;
    Ok(ScimAnswer::read(
        groups::get(&state, auth.into(), &path.id, &query).await?,
    ))
}

/// PUT /Groups/{id}
pub async fn replace_group(
    state: web::Data<ScimState>,
    path: web::Path<ResourcePath>,
    IfMatch(if_match): IfMatch,
    write: WriteBody,
) -> Result<ScimAnswer, ScimError> {
    let replaced = groups::replace(
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

/// PATCH /Groups/{id}
pub async fn patch_group(
    state: web::Data<ScimState>,
    path: web::Path<ResourcePath>,
    IfMatch(if_match): IfMatch,
    write: WriteBody,
) -> Result<ScimAnswer, ScimError> {
    groups::patch(
        &state,
        write.auth.into(),
        &path.id,
        write.body.into_value()?,
        if_match,
        write.log,
    )
    .await?;
    // Re-sending thousands of members after every batch helps no one: 204.
    Ok(ScimAnswer::written_empty())
}

/// DELETE /Groups/{id}
pub async fn delete_group(
    state: web::Data<ScimState>,
    path: web::Path<ResourcePath>,
    IfMatch(if_match): IfMatch,
    write: WriteOnly,
) -> Result<ScimAnswer, ScimError> {
    groups::delete(&state, write.auth.into(), &path.id, if_match, write.log).await?;
    Ok(ScimAnswer::written_empty())
}
