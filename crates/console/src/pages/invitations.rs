//! Accepting an invitation (`/console/invitations/{token}`, no session needed): the page says
//! which organisation and role it is for and asks for a password; accepting creates the admin,
//! spends the link, writes the audit entry and signs the new admin in. An expired, used or
//! withdrawn link gets a page that says so.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, web};
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use tenancy::admins::invitations::{self, Invitation};
use tenancy::password::{self, MIN_PASSWORD_LEN};
use tenancy::sessions::{self, Principal};
use tenancy::{Db, Deployment, tenants};

use super::login::{check_pre_session_csrf, pre_session_csrf};
use crate::assets;
use crate::client::request_actor;
use crate::error::ConsoleError;
use crate::form::Form;
use crate::page::Page;
use crate::session::{LOGIN_CSRF_COOKIE, removal, secure_cookies, session_cookie};

/// The page.
#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    css: &'static str,
    csrf: String,
    token: String,
    organisation: String,
    email: String,
    role: &'static str,
    min_len: usize,
    error: Option<String>,
    problem: Option<(&'static str, &'static str)>,
}

impl InvitationPage {
    fn problem(title: &'static str, message: &'static str) -> Self {
        Self {
            css: assets::css_url(),
            csrf: String::new(),
            token: String::new(),
            organisation: String::new(),
            email: String::new(),
            role: "",
            min_len: MIN_PASSWORD_LEN,
            error: None,
            problem: Some((title, message)),
        }
    }
}

/// What the link leads to, with the organisation's name when it can be accepted.
async fn look_up(db: &Db, token: &str) -> Result<Option<(Invitation, String)>, ConsoleError> {
    let Some(tenant) = invitations::tenant_of(token) else {
        return Ok(None);
    };
    let token = token.to_owned();
    Ok(db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            let Some(found) = invitations::open(conn, &token, Utc::now())? else {
                return Ok(None);
            };
            let name = tenants::find(conn, tenant)?.name;
            Ok(Some((found, name)))
        })
        .await?)
}

/// The page of a link that cannot be accepted, with its status.
fn unusable(found: Option<&Invitation>) -> Result<Page, ConsoleError> {
    let (status, page) = match found {
        Some(Invitation::Expired) => (
            StatusCode::GONE,
            InvitationPage::problem(
                "This invitation has expired",
                "Invitations work for seven days. Ask an owner of the organisation to invite you again.",
            ),
        ),
        Some(Invitation::Used) => (
            StatusCode::GONE,
            InvitationPage::problem(
                "This invitation has been used",
                "Each invitation works once. If you accepted it, sign in with your e-mail address and password.",
            ),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            InvitationPage::problem(
                "This invitation does not work",
                "The link is incomplete, or the invitation was withdrawn. Ask an owner of the organisation for a new one.",
            ),
        ),
    };
    Ok(Page::ok(&page)?.with_status(status))
}

fn form_page(
    deployment: &Deployment,
    token: String,
    organisation: String,
    invitation: &invitations::InvitationRow,
    error: Option<String>,
) -> Result<Page, ConsoleError> {
    let (csrf, cookie) = pre_session_csrf(deployment);
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let page = InvitationPage {
        css: assets::css_url(),
        csrf,
        token,
        organisation,
        email: invitation.email.clone(),
        role: invitation.role.label(),
        min_len: MIN_PASSWORD_LEN,
        error,
        problem: None,
    };
    Ok(Page::ok(&page)?.with_status(status).cookie(cookie))
}

/// GET /console/invitations/{token}
pub async fn show_invitation(
    path: web::Path<String>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let token = path.into_inner();
    match look_up(&db, &token).await? {
        Some((Invitation::Open(row), organisation)) => {
            form_page(&deployment, token, organisation, &row, None)
        }
        other => unusable(other.as_ref().map(|(found, _)| found)),
    }
}

/// The acceptance form.
#[derive(Debug, Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    csrf: String,
    new_password: String,
    confirm: String,
}

/// POST /console/invitations/{token}
pub async fn accept_invitation(
    req: HttpRequest,
    path: web::Path<String>,
    form: Form<AcceptForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let form = form.into_inner();
    check_pre_session_csrf(&req, &form.csrf, &deployment)?;
    let token = path.into_inner();
    let (row, organisation) = match look_up(&db, &token).await? {
        Some((Invitation::Open(row), organisation)) => (row, organisation),
        other => return unusable(other.as_ref().map(|(found, _)| found)),
    };
    let refused = if form.new_password != form.confirm {
        Some("The passwords do not match.".to_owned())
    } else {
        match password::check_new_password(&form.new_password) {
            Err(tenancy::Error::Invalid(message)) => Some(message),
            _ => None,
        }
    };
    if let Some(message) = refused {
        return form_page(&deployment, token, organisation, &row, Some(message));
    }
    let typed = form.new_password;
    // argon2 takes tens of milliseconds: on a blocking thread, with no connection held.
    let hash = tokio::task::spawn_blocking(move || password::hash_password(&typed))
        .await
        .map_err(|_| ConsoleError::Internal)??;
    let from = request_actor(&req, None, &row.email);
    let tenant = row.tenant_id;
    let now = Utc::now();
    let accepted = db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<_, tenancy::Error> {
                let admin = invitations::accept(conn, &token, &hash, &from, now)?;
                let (cookie, _) = sessions::create(conn, tenant, Principal::Admin(admin.id), now)?;
                Ok((admin, cookie))
            })
        })
        .await;
    match accepted {
        Ok((admin, cookie)) => {
            tracing::info!(tenant_id = %tenant, admin_id = %admin.id, "an invitation was accepted");
            Ok(Page::see_other("/console")
                .flash(&format!(
                    "Welcome: you are now {} of {organisation}.",
                    admin.role.label()
                ))
                .cookie(session_cookie(cookie, secure_cookies(&deployment)))
                .cookie(removal(LOGIN_CSRF_COOKIE, "/console")))
        }
        // Accepted meanwhile in another tab, or expired on the way: the page says which.
        Err(tenancy::Error::Invalid(message)) => Err(ConsoleError::BadRequest(message)),
        Err(other) => Err(other.into()),
    }
}
