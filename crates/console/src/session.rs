//! Console sign-in sessions: the cookie, the `Console` extractor that guards every admin page,
//! and CSRF checks for forms.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::Payload;
use actix_web::http::{Method, Uri, header};
use actix_web::{FromRequest, HttpMessage as _, HttpRequest, web};
use chrono::{DateTime, Utc};
use tenancy::admins::provider::Access;
use tenancy::admins::{self, AdminRow};
use tenancy::scim_tokens::{self, TokenState};
use tenancy::sessions::{self, SessionRow};
use tenancy::stored::AdminRole;
use tenancy::tenants::{self, TenantRow};
use tenancy::{Db, Deployment, secret};

use crate::client::{client_of, user_agent};
use crate::error::ConsoleError;
use crate::routes::Need;

/// The admin session cookie.
pub const SESSION_COOKIE: &str = "insights_session";
/// The pre-sign-in CSRF cookie (double-submit) of the sign-in form.
pub const LOGIN_CSRF_COOKIE: &str = "insights_login_csrf";
/// A one-shot message shown on the next page.
pub const FLASH_COOKIE: &str = "insights_flash";

/// A signed-in admin with their tenant, for one request.
#[derive(Debug, Clone)]
pub struct Console {
    /// The tenant the admin administers.
    pub tenant: TenantRow,
    /// The admin.
    pub admin: AdminRow,
    /// The session (holds the CSRF token).
    pub session: SessionRow,
    /// The tenant's newest token's state, for the expiry banner.
    pub token_alert: Option<TokenAlert>,
    /// The flash message left by the previous request.
    pub flash: Option<String>,
    /// Where the request came from, for the audit log.
    pub client: String,
    /// The browser's `User-Agent`, for the audit log.
    pub user_agent: Option<String>,
}

/// A warning about the SCIM token shown on every page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenAlert {
    /// Expired: provisioning has stopped.
    Expired(DateTime<Utc>),
}

impl Console {
    /// The admin as the audit log names them.
    pub fn actor(&self) -> tenancy::audit::Actor {
        tenancy::audit::Actor {
            admin: Some(self.admin.id),
            email: self.admin.email.clone(),
            address: Some(self.client.clone()),
            user_agent: self.user_agent.clone(),
        }
    }

    /// Whether the admin's role includes `role`.
    pub fn can(&self, role: AdminRole) -> bool {
        self.admin.role.includes(role)
    }

    /// Checks a submitted form's CSRF token: only for the extractors of state-changing
    /// requests ([`crate::form::CsrfForm`] and the import upload), never for a handler.
    pub(crate) fn check_csrf(&self, submitted: &str) -> Result<(), ConsoleError> {
        if secret::constant_time_eq(submitted.as_bytes(), self.session.csrf_token.as_bytes()) {
            Ok(())
        } else {
            Err(ConsoleError::Csrf)
        }
    }
}

impl FromRequest for Console {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ConsoleError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let next = return_path(&req);
            let sign_in = || ConsoleError::SignInRequired { next: next.clone() };
            let cookie = req
                .cookie(SESSION_COOKIE)
                .ok_or_else(sign_in)?
                .value()
                .to_owned();
            let tenant = sessions::tenant_of(&cookie).ok_or_else(sign_in)?;
            let db = req
                .app_data::<web::Data<Db>>()
                .cloned()
                .ok_or(ConsoleError::Internal)?;
            let now = Utc::now();
            let loaded = db.run(tenant, move |conn| load(conn, &cookie, now)).await?;
            let (session, admin, tenant, newest) = match loaded {
                Loaded::SignedIn(loaded) => *loaded,
                Loaded::SignedOut => return Err(sign_in()),
                Loaded::Ended(ended) => return Err(ConsoleError::AccessEnded(ended.message())),
            };
            // Every signed-in route names the role it needs (`routes::RULES`); a route that
            // names none is refused rather than opened to every role.
            match req.extensions().get::<Need>().copied() {
                Some(Need::Public) => {}
                Some(Need::Role(needed)) if admin.role.includes(needed) => {}
                Some(Need::Role(_)) => return Err(ConsoleError::Forbidden(admin.role)),
                None => {
                    tracing::error!(path = req.path(), "a console route has no role rule");
                    return Err(ConsoleError::Forbidden(admin.role));
                }
            }
            let path = req.path();
            let free = path == "/console/logout";
            // An admin with a one-time password may only change it.
            if admin.must_change_password && path != "/console/password" && !free {
                return Err(ConsoleError::PasswordChangeRequired);
            }
            // Where the organisation requires a second factor, a password admin without one
            // may only set it up.
            if tenant.mfa_required
                && !admin.signs_in_with_provider()
                && !admin.has_mfa()
                && !path.starts_with("/console/mfa")
                && !free
            {
                return Err(ConsoleError::MfaEnrolmentRequired);
            }
            let token_alert = newest.first().and_then(|t| match t.state(now) {
                TokenState::Expired { at } => Some(TokenAlert::Expired(at)),
                _ => None,
            });
            let flash = req
                .cookie(FLASH_COOKIE)
                .map(|c| c.value().to_owned())
                .filter(|v| !v.is_empty());
            let user_agent = user_agent(&req);
            Ok(Console {
                tenant,
                admin,
                session,
                token_alert,
                flash,
                client: client_of(&req).addr.to_string(),
                user_agent,
            })
        })
    }
}

/// What a session cookie leads to.
enum Loaded {
    /// A live session of an admin who may use the console (with the role they have now: a
    /// provider admin's, from their groups).
    SignedIn(
        Box<(
            SessionRow,
            AdminRow,
            TenantRow,
            Vec<scim_tokens::ScimTokenRow>,
        )>,
    ),
    /// No live session (or one still waiting for its second factor).
    SignedOut,
    /// The admin's access ended (their groups, their user, the tenant's policy): their
    /// sessions were ended.
    Ended(admins::provider::Ended),
}

/// The session of `cookie` with its admin and tenant, in one unit of work. An admin whose
/// access ended has every session ended here, at once.
fn load(
    conn: &mut tenancy::PgConnection,
    cookie: &str,
    now: DateTime<Utc>,
) -> Result<Loaded, tenancy::Error> {
    let Some(session) = sessions::find(conn, cookie, now)? else {
        return Ok(Loaded::SignedOut);
    };
    let Some(admin_id) = session.admin_id.filter(|_| !session.awaiting_mfa) else {
        return Ok(Loaded::SignedOut);
    };
    let mut admin = admins::find(conn, session.tenant_id, admin_id)?;
    let tenant = tenants::find(conn, session.tenant_id)?;
    match admins::provider::console_access(conn, &tenant, &admin)? {
        Access::Granted(role) if role != admin.role => {
            admins::provider::remember_role(conn, tenant.id, admin.id, role)?;
            admin.role = role;
        }
        Access::Granted(_) => {}
        Access::Ended(ended) => {
            sessions::delete_admin_sessions(conn, tenant.id, admin.id, None)?;
            tracing::info!(tenant_id = %tenant.id, admin_id = %admin.id, reason = ended.reason(), "console access ended");
            return Ok(Loaded::Ended(ended));
        }
    }
    let newest = scim_tokens::list(conn, session.tenant_id, 1)?;
    Ok(Loaded::SignedIn(Box::new((session, admin, tenant, newest))))
}

/// Where to come back to after signing in. A form's action usually answers POST only, so for
/// a form the page it was sent from (its `Referer`) is the place to return to. Only its path is
/// kept, and the sign-in page follows local `/console` paths only.
fn return_path(req: &HttpRequest) -> String {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return req
            .uri()
            .path_and_query()
            .map_or("/console", |pq| pq.as_str())
            .to_owned();
    }
    let from = req
        .headers()
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<Uri>().ok())
        .and_then(|uri| uri.path_and_query().map(|pq| pq.as_str().to_owned()));
    match from {
        Some(path) if path.starts_with("/console/") && !path.starts_with("/console/login") => path,
        _ => "/console".to_owned(),
    }
}

/// The session cookie for a new session.
pub fn session_cookie(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, value)
        .path("/console")
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .finish()
}

/// A cookie that removes `name` at `path` (a fixed path, or one known only at run time).
pub fn removal(
    name: &'static str,
    path: impl Into<std::borrow::Cow<'static, str>>,
) -> Cookie<'static> {
    let mut cookie = Cookie::build(name, "")
        .path(path)
        .max_age(time::Duration::ZERO)
        .finish();
    cookie.make_removal();
    cookie
}

/// A flash message for the next page.
pub fn flash_cookie(message: &str) -> Cookie<'static> {
    // Percent-encoded: a `;` or `,` in the text (a card number, say) would otherwise end the
    // cookie value. actix-web decodes request cookies, so the page sees the text as written.
    Cookie::build(FLASH_COOKIE, percent_encode(message))
        .path("/console")
        .http_only(true)
        .same_site(SameSite::Strict)
        .max_age(time::Duration::seconds(60))
        .finish()
}

/// Percent-encodes everything but unreserved URL characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether cookies must be marked Secure (the public URL is https).
pub fn secure_cookies(deployment: &Deployment) -> bool {
    deployment.public_url.starts_with("https://")
}

/// Unsafe methods must come from our own pages: the `Origin` (or `Referer`) must be ours.
pub fn same_origin(req: &HttpRequest, deployment: &Deployment) -> bool {
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .or_else(|| req.headers().get(header::REFERER))
        .and_then(|v| v.to_str().ok());
    let Some(origin) = origin else {
        // Browsers send Origin on POST; a client that sends neither is not a browser form.
        return true;
    };
    let host = req.connection_info().host().to_owned();
    let ours = [
        deployment.public_url.trim_end_matches('/').to_owned(),
        format!("http://{host}"),
        format!("https://{host}"),
    ];
    ours.iter()
        .any(|base| origin == base || origin.starts_with(&format!("{base}/")))
}
