//! The console's stylesheet and script, compiled into the binary and served under
//! content-hashed names with year-long cache headers.

use std::sync::LazyLock;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

const CSS: &str = include_str!("../../../static/app.css");
const JS: &str = include_str!("../../../static/app.js");

static CSS_URL: LazyLock<String> =
    LazyLock::new(|| format!("/console/static/app.{}.css", short_hash(CSS)));
static JS_URL: LazyLock<String> =
    LazyLock::new(|| format!("/console/static/app.{}.js", short_hash(JS)));

fn short_hash(content: &str) -> String {
    tenancy::secret::sha256(content)
        .iter()
        .take(5)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The stylesheet's URL.
pub fn css_url() -> &'static str {
    &CSS_URL
}

/// The script's URL.
pub fn js_url() -> &'static str {
    &JS_URL
}

/// GET /console/static/{name}
pub async fn serve_asset(name: web::Path<String>) -> HttpResponse {
    let name = name.into_inner();
    let (body, content_type) = if format!("/console/static/{name}") == *CSS_URL {
        (CSS, "text/css; charset=utf-8")
    } else if format!("/console/static/{name}") == *JS_URL {
        (JS, "text/javascript; charset=utf-8")
    } else {
        return HttpResponse::NotFound().finish();
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((header::CACHE_CONTROL, "public, max-age=31536000, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(body)
}
