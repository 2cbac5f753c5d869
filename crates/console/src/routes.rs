//! The console's routes, mounted by the server under `/console`.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, web};
use tenancy::Deployment;

use crate::assets;
use crate::error::ConsoleError;
use crate::pages::{
    activity, directory_settings, end_user, groups, import, login, password, see_other,
    sign_in_settings, user_group_sync, users,
};
use crate::session::{FLASH_COOKIE, removal, same_origin};

/// Mounts `/console/...` and the end-user sign-in under `/t/{tenant}/...`. The server registers
/// `web::Data<Db>`, `web::Data<Deployment>` and `web::Data<Oidc>`.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/t/{tenant}")
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
                web::get().to(|| async { see_other("/console/secure/advanced/user-group-sync") }),
            )
            .route(
                "/",
                web::get().to(|| async { see_other("/console/secure/advanced/user-group-sync") }),
            )
            .route("/static/{name}", web::get().to(assets::serve_asset))
            .route("/login", web::get().to(login::show_login))
            .route("/login", web::post().to(login::login))
            .route("/logout", web::post().to(login::logout))
            // A bookmarked or typed sign-out address: signing out needs the form (POST + CSRF).
            .route("/logout", web::get().to(|| async { see_other("/console") }))
            .route("/password", web::get().to(password::show_password))
            .route("/password", web::post().to(password::change_password))
            .route(
                "/secure/advanced/user-group-sync",
                web::get().to(user_group_sync::show_user_group_sync),
            )
            .route(
                "/secure/advanced/user-group-sync/token",
                web::post().to(user_group_sync::regenerate_scim_token),
            )
            .route(
                "/secure/advanced/user-group-sync/tokens/{id}/revoke",
                web::post().to(user_group_sync::revoke_scim_token),
            )
            .route(
                "/direct/settings",
                web::get().to(directory_settings::show_direct_settings),
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

/// Every console request: unsafe methods must come from our own origin; pages are never
/// cached; a flash message is shown once.
async fn guard(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let deployment = req.app_data::<web::Data<Deployment>>().cloned();
        if let Some(deployment) = deployment
            && !same_origin(req.request(), &deployment)
        {
            return Err(ConsoleError::Csrf.into());
        }
    }
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
    if had_flash && !sets_flash && response.status().is_success() {
        response
            .response_mut()
            .add_cookie(&removal(FLASH_COOKIE, "/console"))
            .map_err(actix_web::error::ErrorInternalServerError)?;
    }
    Ok(response)
}
