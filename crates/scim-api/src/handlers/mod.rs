//! HTTP handlers: extract, call one service function, shape the response.

pub mod answer;
pub mod discovery;
pub mod groups;
pub mod users;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest};

use crate::error::ScimError;
use crate::protocol::list::ListQuery;

/// The list and projection parameters of the request.
pub fn list_query(req: &HttpRequest) -> Result<ListQuery, ScimError> {
    ListQuery::parse(req.query_string())
}

/// The `If-Match` header, if any.
#[derive(Debug, Clone)]
pub struct IfMatch(pub Option<String>);

impl FromRequest for IfMatch {
    type Error = ScimError;
    type Future = Ready<Result<Self, ScimError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(IfMatch(
            req.headers()
                .get(header::IF_MATCH)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        )))
    }
}
