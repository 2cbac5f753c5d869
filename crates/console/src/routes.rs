//! The console's routes, mounted by the server under `/console`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, web};
use tenancy::Deployment;

use crate::assets;
use crate::client::client_of;
use crate::error::ConsoleError;
use crate::form::{contains_nul, nul_refused};
use crate::page::Page;
use crate::pages::{
    activity, directory_settings, end_user, groups, import, login, password, safety, shadow,
    sign_in_settings, user_group_sync, users,
};
use crate::session::{FLASH_COOKIE, removal, same_origin};

/// Every console route that accepts an unsafe method (POST), as its pattern below `/console`.
/// The guard refuses unsafe requests to anything else, and a test posts to each of these
/// without a CSRF token and expects 403: a new form cannot be added unprotected.
pub const ACTIONS: &[&str] = &[
    "/login",
    "/logout",
    "/password",
    "/secure/advanced/user-group-sync/token",
    "/secure/advanced/user-group-sync/tokens/{id}/revoke",
    "/secure/advanced/user-group-sync/test",
    "/secure/advanced/user-group-sync/notifications/endpoints",
    "/secure/advanced/user-group-sync/notifications/endpoints/{id}/disable",
    "/secure/advanced/user-group-sync/notifications/endpoints/{id}/enable",
    "/secure/advanced/user-group-sync/notifications/endpoints/{id}/remove",
    "/secure/advanced/user-group-sync/notifications/test",
    "/secure/advanced/user-group-sync/notifications/spike",
    "/secure/advanced/user-group-sync/safety/pause",
    "/secure/advanced/user-group-sync/safety/resume",
    "/secure/advanced/user-group-sync/safety/revoke-all",
    "/secure/advanced/user-group-sync/safety/adoption",
    "/secure/advanced/user-group-sync/safety/conflicts/{id}/link",
    "/secure/advanced/user-group-sync/safety/conflicts/{id}/separate",
    "/secure/advanced/user-group-sync/safety/deleted/{id}/restore",
    "/secure/advanced/user-group-sync/safety/trips/{id}/undo",
    "/secure/advanced/user-group-sync/safety/trips/{id}/acknowledge",
    "/secure/advanced/user-group-sync/shadow/start",
    "/secure/advanced/user-group-sync/shadow/go-live",
    "/secure/advanced/user-group-sync/shadow/discard",
    "/users/{id}/cards",
    "/users/{id}/cards/{card}/remove",
    "/import",
    "/settings/sign-in",
    "/settings/sign-in/test",
    "/direct/settings/retention",
];

/// Whether `path` (below `/console`) is one of the [`ACTIONS`]; `{…}` matches one segment.
pub fn is_action(path: &str) -> bool {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    ACTIONS.iter().any(|pattern| {
        let parts: Vec<&str> = pattern.split('/').collect();
        parts.len() == segments.len()
            && parts.iter().zip(&segments).all(|(part, segment)| {
                (part.starts_with('{') && !segment.is_empty()) || part == segment
            })
    })
}

/// Mounts `/console/...` and the end-user sign-in under `/t/{tenant}/...`. The server registers
/// `web::Data<Db>`, `web::Data<Deployment>` and `web::Data<Oidc>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // The bare address leads to the console (which leads to sign-in when signed out).
    cfg.route("/", web::get().to(|| async { Page::see_other("/console") }));
    cfg.service(
        web::scope("/t/{tenant}")
            .wrap(from_fn(end_user_guard))
            .route("/login", web::get().to(end_user::start_login))
            .route("/callback", web::get().to(end_user::callback))
            .route("/me", web::get().to(end_user::show_me))
            .route("/logout", web::post().to(end_user::logout))
            .route("/signed-out", web::get().to(end_user::signed_out)),
    );
    cfg.service(
        web::scope("/console")
            .wrap(from_fn(guard))
            .app_data(
                web::FormConfig::default()
                    .limit(64 * 1024)
                    .error_handler(|_, _| {
                        ConsoleError::BadRequest("The form could not be read.".into()).into()
                    }),
            )
            .app_data(web::QueryConfig::default().error_handler(|_, _| {
                ConsoleError::BadRequest("The address has an invalid query.".into()).into()
            }))
            .route(
                "",
                web::get()
                    .to(|| async { Page::see_other("/console/secure/advanced/user-group-sync") }),
            )
            .route(
                "/",
                web::get()
                    .to(|| async { Page::see_other("/console/secure/advanced/user-group-sync") }),
            )
            .route("/static/{name}", web::get().to(assets::serve_asset))
            .route("/login", web::get().to(login::show_login))
            .route("/login", web::post().to(login::login))
            .route("/logout", web::post().to(login::logout))
            // A bookmarked or typed sign-out address: signing out needs the form (POST + CSRF).
            .route(
                "/logout",
                web::get().to(|| async { Page::see_other("/console") }),
            )
            .route("/password", web::get().to(password::show_password))
            .route("/password", web::post().to(password::change_password))
            .route(
                "/secure/advanced/user-group-sync",
                web::get().to(user_group_sync::show_user_group_sync),
            )
            .route(
                "/secure/advanced/user-group-sync/shadow",
                web::get().to(shadow::show_review),
            )
            .route(
                "/secure/advanced/user-group-sync/shadow/start",
                web::post().to(shadow::start_shadow),
            )
            .route(
                "/secure/advanced/user-group-sync/shadow/go-live",
                web::post().to(shadow::go_live),
            )
            .route(
                "/secure/advanced/user-group-sync/shadow/discard",
                web::post().to(shadow::discard),
            )
            .route(
                "/secure/advanced/user-group-sync/safety",
                web::get().to(safety::show_safety),
            )
            .route(
                "/secure/advanced/user-group-sync/safety/pause",
                web::post().to(safety::pause),
            )
            .route(
                "/secure/advanced/user-group-sync/safety/resume",
                web::post().to(safety::resume),
            )
            .route(
                "/secure/advanced/user-group-sync/safety/revoke-all",
                web::post().to(safety::revoke_all),
            )
            .route(
                "/secure/advanced/user-group-sync/safety/adoption",
                web::post().to(safety::set_adoption),
            )
            .route(
                "/secure/advanced/user-group-sync/safety/conflicts/{id}/link",
                web::post().to(safety::link),
            )
            .route(
                "/secure/advanced/user-group-sync/safety/conflicts/{id}/separate",
                web::post().to(safety::keep_separate),
            )
            .route(
                "/secure/advanced/user-group-sync/safety/deleted/{id}/restore",
                web::post().to(safety::restore),
            )
            .route(
                "/secure/advanced/user-group-sync/safety/trips/{id}/undo",
                web::post().to(safety::undo),
            )
            .route(
                "/secure/advanced/user-group-sync/safety/trips/{id}/acknowledge",
                web::post().to(safety::acknowledge),
            )
            .route(
                "/secure/advanced/user-group-sync/test",
                web::post().to(user_group_sync::test_connection),
            )
            .route(
                "/secure/advanced/user-group-sync/token",
                web::post().to(user_group_sync::regenerate_scim_token),
            )
            .route(
                "/secure/advanced/user-group-sync/notifications/endpoints",
                web::post().to(user_group_sync::notifications::add_endpoint),
            )
            .route(
                "/secure/advanced/user-group-sync/notifications/endpoints/{id}/disable",
                web::post().to(user_group_sync::notifications::disable_endpoint),
            )
            .route(
                "/secure/advanced/user-group-sync/notifications/endpoints/{id}/enable",
                web::post().to(user_group_sync::notifications::enable_endpoint),
            )
            .route(
                "/secure/advanced/user-group-sync/notifications/endpoints/{id}/remove",
                web::post().to(user_group_sync::notifications::remove_endpoint),
            )
            .route(
                "/secure/advanced/user-group-sync/notifications/test",
                web::post().to(user_group_sync::notifications::send_test),
            )
            .route(
                "/secure/advanced/user-group-sync/notifications/spike",
                web::post().to(user_group_sync::notifications::set_spike_threshold),
            )
            .route(
                "/secure/advanced/user-group-sync/tokens/{id}/revoke",
                web::post().to(user_group_sync::revoke_scim_token),
            )
            .route(
                "/direct/settings",
                web::get().to(directory_settings::show_direct_settings),
            )
            .route(
                "/direct/settings/retention",
                web::post().to(directory_settings::save_retention),
            )
            .route("/users", web::get().to(users::list_users))
            .route("/users/{id}", web::get().to(users::show_user))
            .route("/users/{id}/cards", web::post().to(users::add_card))
            .route(
                "/users/{id}/cards/{card}/remove",
                web::post().to(users::remove_card),
            )
            .route("/groups", web::get().to(groups::list_groups))
            .route("/groups/{id}", web::get().to(groups::show_group))
            .route("/import", web::get().to(import::show_import))
            .route("/import", web::post().to(import::upload_import))
            .route("/import/{id}", web::get().to(import::show_import_job))
            .route("/activity", web::get().to(activity::list_activity))
            .route(
                "/activity/export",
                web::get().to(activity::export::export_activity),
            )
            .route("/activity/{id}", web::get().to(activity::show_event))
            .route(
                "/settings/sign-in",
                web::get().to(sign_in_settings::show_sign_in_settings),
            )
            .route(
                "/settings/sign-in",
                web::post().to(sign_in_settings::save_sign_in_settings),
            )
            .route(
                "/settings/sign-in/test",
                web::post().to(sign_in_settings::test_connection),
            )
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ConsoleError::NotFound)
            })),
    );
}

/// The Content-Security-Policy of console pages: scripts, styles and images from our own
/// origin only (no inline script or style anywhere), no plugins, no framing, forms only to us.
pub const CONSOLE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";
/// The same for the end-user pages under `/t/{tenant}`, less `form-action`: signing out posts
/// to us and is then redirected to the tenant's identity provider, which `form-action` would
/// block.
pub const END_USER_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

/// Every console request: see [`protect`].
async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let unsafe_method = req.method() != Method::GET && req.method() != Method::HEAD;
    if unsafe_method && !is_action(req.path().trim_start_matches("/console")) {
        return Err(ConsoleError::NotFound.into());
    }
    protect(req, next, CONSOLE_CSP, "/console").await
}

/// Every end-user request under `/t/{tenant}`: see [`protect`].
async fn end_user_guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    protect(req, next, END_USER_CSP, "/t/").await
}

/// What every browser-facing request gets: unsafe methods must come from our own origin; a
/// query with a NUL character is refused in words; pages are never cached and carry the
/// security headers; every cookie is `Secure` when the public URL (or a trusted proxy) says
/// https; a flash message is shown once.
async fn protect(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
    csp: &'static str,
    flash_path: &'static str,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let deployment = req.app_data::<web::Data<Deployment>>().cloned();
    if req.method() != Method::GET
        && req.method() != Method::HEAD
        && let Some(deployment) = &deployment
        && !same_origin(req.request(), deployment)
    {
        return Err(ConsoleError::Csrf.into());
    }
    if contains_nul(req.query_string().as_bytes()) {
        return Err(nul_refused().into());
    }
    let https = deployment.as_ref().is_some_and(|d| d.is_https())
        || client_of(req.request()).forwarded_https == Some(true);
    let had_flash = req.cookie(FLASH_COOKIE).is_some();
    let is_asset = req.path().starts_with("/console/static/");
    let mut response = crate::error::quiet_redirect(next.call(req).await?);
    if !is_asset {
        let headers = response.headers_mut();
        if !headers.contains_key(header::CACHE_CONTROL) {
            headers.insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
        }
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            header::HeaderValue::from_static(csp),
        );
        headers.insert(
            header::X_FRAME_OPTIONS,
            header::HeaderValue::from_static("DENY"),
        );
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            header::HeaderValue::from_static("nosniff"),
        );
        headers.insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("same-origin"),
        );
    }
    let sets_flash = response
        .response()
        .cookies()
        .any(|c| c.name() == FLASH_COOKIE);
    if had_flash && !sets_flash && response.status().is_success() && flash_path == "/console" {
        response
            .response_mut()
            .add_cookie(&removal(FLASH_COOKIE, "/console"))
            .map_err(actix_web::error::ErrorInternalServerError)?;
    }
    if https {
        secure_every_cookie(response.response_mut());
    }
    Ok(response)
}

/// Marks every cookie the response sets `Secure`.
fn secure_every_cookie<B>(response: &mut HttpResponse<B>) {
    let cookies: Vec<_> = response
        .cookies()
        .filter(|cookie| cookie.secure() != Some(true))
        .map(actix_web::cookie::Cookie::into_owned)
        .collect();
    if cookies.is_empty() {
        return;
    }
    let names: Vec<String> = cookies.iter().map(|c| c.name().to_owned()).collect();
    for name in &names {
        response.del_cookie(name);
    }
    for mut cookie in cookies {
        cookie.set_secure(true);
        // A cookie built by the code is always valid; a failure would only drop the flag.
        let _ = response.add_cookie(&cookie);
    }
}

#[cfg(test)]
mod tests {
    use super::is_action;

    #[test]
    fn actions_match_their_patterns_only() {
        assert!(is_action("/password"));
        assert!(is_action("/users/abc/cards"));
        assert!(is_action("/users/abc/cards/def/remove"));
        assert!(!is_action("/users/abc"));
        assert!(!is_action("/users//cards"));
        assert!(!is_action("/users/abc/cards/def/remove/more"));
        assert!(!is_action("/activity"));
    }
}
