//! The console's pages, one module per area.

pub mod activity;
pub mod directory_settings;
pub mod end_user;
pub mod groups;
pub mod import;
pub mod login;
pub mod password;
pub mod sign_in_settings;
pub mod token_status;
pub mod user_group_sync;
pub mod users;

use actix_web::HttpResponse;
use actix_web::http::header;

/// A redirect after a successful form post (POST-redirect-GET). A location that cannot be a
/// header value (it never should be) leads to the console's start page instead.
pub fn see_other(location: &str) -> HttpResponse {
    let location = header::HeaderValue::from_str(location)
        .unwrap_or_else(|_| header::HeaderValue::from_static("/console"));
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// The furthest page a list goes to; beyond it a page is empty rather than an overflow.
pub const MAX_PAGE: i64 = 1_000_000;

/// The page number asked for in a query, within 1..=[`MAX_PAGE`].
pub fn page_number(asked: Option<i64>) -> i64 {
    asked.unwrap_or(1).clamp(1, MAX_PAGE)
}
