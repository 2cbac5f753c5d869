//! The console's routes, mounted by the server under `/console`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpMessage as _, HttpResponse, web};
use tenancy::Deployment;
use tenancy::stored::AdminRole;

use crate::assets;
use crate::client::client_of;
use crate::error::ConsoleError;
use crate::form::{contains_nul, nul_refused};
use crate::page::Page;
use crate::pages::{
    activity, admins, audit, directory_settings, end_user, groups, import, invitations, login, mfa,
    password, provider_sign_in, safety, shadow, sign_in_settings, two_step, user_group_sync, users,
};
use crate::session::{FLASH_COOKIE, removal, same_origin};

/// Who may use a console route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Anyone, signed in or not (sign-in, assets, an invitation link).
    Public,
    /// A signed-in admin of this role or a higher one.
    Role(AdminRole),
}

/// One console route: its method, its pattern below `/console` (`{…}` is one segment) and
/// who may use it.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The pattern below `/console`.
    pub pattern: &'static str,
    /// Who may use it.
    pub need: Need,
}

/// Declares the console's routes once, as the table [`RULES`] and as their registration:
/// a route cannot be added without saying who may use it.
macro_rules! console_routes {
    ($( $method:ident $path:literal => $need:ident, $handler:expr; )*) => {
        /// Every console route with who may use it. The guard refuses an unsafe request to
        /// anything not listed as a POST here, the [`crate::session::Console`] extractor
        /// enforces the role, and tests go through the whole table with every role.
        pub const RULES: &[Rule] = &[$(Rule {
            method: console_routes!(@method $method),
            pattern: $path,
            need: console_routes!(@need $need),
        }),*];

        fn register(scope: actix_web::Scope) -> actix_web::Scope {
            scope $( .route($path, web::$method().to($handler)) )*
        }
    };
    (@method get) => { "GET" };
    (@method post) => { "POST" };
    (@need Public) => { Need::Public };
    (@need Viewer) => { Need::Role(AdminRole::Viewer) };
    (@need Admin) => { Need::Role(AdminRole::Admin) };
    (@need Owner) => { Need::Role(AdminRole::Owner) };
}

console_routes! {
    get "" => Public, || async { Page::see_other("/console/secure/advanced/user-group-sync") };
    get "/" => Public, || async { Page::see_other("/console/secure/advanced/user-group-sync") };
    get "/static/{name}" => Public, assets::serve_asset;
    get "/login" => Public, login::show_login;
    post "/login" => Public, login::login;
    get "/login/code" => Public, two_step::show_code;
    post "/login/code" => Public, two_step::submit_code;
    get "/sso/{tenant}" => Public, provider_sign_in::start;
    get "/sso/{tenant}/callback" => Public, provider_sign_in::callback;
    post "/logout" => Viewer, login::logout;
    // A bookmarked or typed sign-out address: signing out needs the form (POST + CSRF).
    get "/logout" => Public, || async { Page::see_other("/console") };
    get "/mfa" => Viewer, mfa::show_mfa;
    post "/mfa/setup" => Viewer, mfa::start_setup;
    post "/mfa/confirm" => Viewer, mfa::confirm_setup;
    post "/mfa/recovery-codes" => Viewer, mfa::renew_codes;
    post "/mfa/disable" => Viewer, mfa::turn_off;
    get "/password" => Viewer, password::show_password;
    post "/password" => Viewer, password::change_password;
    get "/secure/advanced/user-group-sync" => Viewer, user_group_sync::show_user_group_sync;
    get "/secure/advanced/user-group-sync/shadow" => Admin, shadow::show_review;
    post "/secure/advanced/user-group-sync/shadow/start" => Admin, shadow::start_shadow;
    post "/secure/advanced/user-group-sync/shadow/go-live" => Admin, shadow::go_live;
    post "/secure/advanced/user-group-sync/shadow/discard" => Admin, shadow::discard;
    get "/secure/advanced/user-group-sync/safety" => Admin, safety::show_safety;
    post "/secure/advanced/user-group-sync/safety/pause" => Admin, safety::pause;
    post "/secure/advanced/user-group-sync/safety/resume" => Admin, safety::resume;
    post "/secure/advanced/user-group-sync/safety/revoke-all" => Admin, safety::revoke_all;
    post "/secure/advanced/user-group-sync/safety/adoption" => Admin, safety::set_adoption;
    post "/secure/advanced/user-group-sync/safety/conflicts/{id}/link" => Admin, safety::link;
    post "/secure/advanced/user-group-sync/safety/conflicts/{id}/separate" => Admin, safety::keep_separate;
    post "/secure/advanced/user-group-sync/safety/deleted/{id}/restore" => Admin, safety::restore;
    post "/secure/advanced/user-group-sync/safety/trips/{id}/undo" => Admin, safety::undo;
    post "/secure/advanced/user-group-sync/safety/trips/{id}/acknowledge" => Admin, safety::acknowledge;
    post "/secure/advanced/user-group-sync/test" => Admin, user_group_sync::test_connection;
    post "/secure/advanced/user-group-sync/token" => Admin, user_group_sync::regenerate_scim_token;
    post "/secure/advanced/user-group-sync/notifications/endpoints" => Admin, user_group_sync::notifications::add_endpoint;
    post "/secure/advanced/user-group-sync/notifications/endpoints/{id}/disable" => Admin, user_group_sync::notifications::disable_endpoint;
    post "/secure/advanced/user-group-sync/notifications/endpoints/{id}/enable" => Admin, user_group_sync::notifications::enable_endpoint;
    post "/secure/advanced/user-group-sync/notifications/endpoints/{id}/remove" => Admin, user_group_sync::notifications::remove_endpoint;
    post "/secure/advanced/user-group-sync/notifications/test" => Admin, user_group_sync::notifications::send_test;
    post "/secure/advanced/user-group-sync/notifications/spike" => Admin, user_group_sync::notifications::set_spike_threshold;
    post "/secure/advanced/user-group-sync/tokens/{id}/revoke" => Admin, user_group_sync::revoke_scim_token;
    get "/direct/settings" => Admin, directory_settings::show_direct_settings;
    post "/direct/settings/retention" => Admin, directory_settings::save_retention;
    get "/users" => Viewer, users::list_users;
    get "/users/{id}" => Viewer, users::show_user;
    post "/users/{id}/cards" => Admin, users::add_card;
    post "/users/{id}/cards/{card}/remove" => Admin, users::remove_card;
    get "/groups" => Viewer, groups::list_groups;
    get "/groups/{id}" => Viewer, groups::show_group;
    get "/import" => Admin, import::show_import;
    post "/import" => Admin, import::upload_import;
    get "/import/{id}" => Admin, import::show_import_job;
    get "/activity" => Viewer, activity::list_activity;
    get "/activity/export" => Viewer, activity::export::export_activity;
    get "/activity/{id}" => Viewer, activity::show_event;
    get "/settings/sign-in" => Admin, sign_in_settings::show_sign_in_settings;
    post "/settings/sign-in" => Admin, sign_in_settings::save_sign_in_settings;
    post "/settings/sign-in/test" => Admin, sign_in_settings::test_connection;
    get "/invitations/{token}" => Public, invitations::show_invitation;
    post "/invitations/{token}" => Public, invitations::accept_invitation;
    get "/admins" => Owner, admins::show_admins;
    post "/admins/invite" => Owner, admins::invite;
    post "/admins/{id}/role" => Owner, admins::set_role;
    post "/admins/{id}/remove" => Owner, admins::remove;
    post "/admins/invitations/{id}/revoke" => Owner, admins::revoke_invitation;
    post "/admins/{id}/mfa/reset" => Owner, admins::sign_in::reset_mfa;
    post "/admins/sign-in" => Owner, admins::sign_in::save_policy;
    post "/admins/groups" => Owner, admins::sign_in::grant;
    post "/admins/groups/{id}/remove" => Owner, admins::sign_in::withdraw;
    get "/audit" => Admin, audit::list_audit;
    get "/audit/export" => Admin, audit::export_audit;
}

/// Every console route that accepts POST, as its pattern below `/console`: each is posted to
/// without a CSRF token by a test, which expects 403.
pub fn actions() -> impl Iterator<Item = &'static str> {
    RULES
        .iter()
        .filter(|rule| rule.method == "POST")
        .map(|rule| rule.pattern)
}

/// Whether `path` (below `/console`) matches `pattern`; `{…}` matches one segment.
fn matches(pattern: &str, path: &str) -> bool {
    let mut parts = pattern.trim_end_matches('/').split('/');
    let mut segments = path.trim_end_matches('/').split('/');
    loop {
        match (parts.next(), segments.next()) {
            (None, None) => return true,
            (Some(part), Some(segment))
                if (part.starts_with('{') && !segment.is_empty()) || part == segment => {}
            _ => return false,
        }
    }
}

/// The rule of a request to `path` (below `/console`) with `method` (HEAD as GET).
pub fn rule_for(method: &Method, path: &str) -> Option<&'static Rule> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    // Fixed segments win over `{…}`: `/activity/export` is not `/activity/{id}`.
    let fixed = |rule: &&Rule| !rule.pattern.contains('{');
    let mut candidates = RULES
        .iter()
        .filter(|rule| rule.method == method && matches(rule.pattern, path));
    candidates
        .clone()
        .find(fixed)
        .or_else(|| candidates.next_back())
}

/// Whether `path` (below `/console`) is one of the [`actions`].
pub fn is_action(path: &str) -> bool {
    rule_for(&Method::POST, path).is_some()
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
        register(web::scope("/console"))
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
    let rule = rule_for(req.method(), req.path().trim_start_matches("/console"));
    match rule {
        // The role is checked by the `Console` extractor, which every signed-in page uses.
        Some(rule) => {
            req.extensions_mut().insert(rule.need);
        }
        None if unsafe_method => return Err(ConsoleError::NotFound.into()),
        None => {}
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
    use actix_web::http::Method;

    use super::is_action;

    #[test]
    fn fixed_segments_win_over_placeholders() {
        let rule = super::rule_for(&Method::GET, "/activity/export").map(|r| r.pattern);
        assert_eq!(rule, Some("/activity/export"));
        let rule = super::rule_for(&Method::GET, "/activity/abc").map(|r| r.pattern);
        assert_eq!(rule, Some("/activity/{id}"));
        let rule = super::rule_for(&Method::HEAD, "/users").map(|r| r.pattern);
        assert_eq!(rule, Some("/users"));
    }

    #[test]
    fn every_pattern_is_declared_once_per_method() {
        for (i, rule) in super::RULES.iter().enumerate() {
            assert!(
                !super::RULES[..i]
                    .iter()
                    .any(|r| r.method == rule.method && r.pattern == rule.pattern),
                "{} {} is declared twice",
                rule.method,
                rule.pattern
            );
        }
    }

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
