//! HTTP handlers: extract, call one service function, shape the response.

pub mod discovery;
pub mod groups;
pub mod users;

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::error::ScimError;
use crate::protocol::list::ListQuery;

/// The list and projection parameters of the request.
pub fn list_query(req: &HttpRequest) -> Result<ListQuery, ScimError> {
    ListQuery::parse(req.query_string())
}

/// The `If-Match` header, if any.
pub fn if_match(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}
