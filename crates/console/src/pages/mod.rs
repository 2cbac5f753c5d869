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

/// A redirect after a successful form post (POST-redirect-GET).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// The furthest page a list goes to; beyond it a page is empty rather than an overflow.
pub const MAX_PAGE: i64 = 1_000_000;

/// The page number asked for in a query, within 1..=[`MAX_PAGE`].
pub fn page_number(asked: Option<i64>) -> i64 {
    asked.unwrap_or(1).clamp(1, MAX_PAGE)
}
