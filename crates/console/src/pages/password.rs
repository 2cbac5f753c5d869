//! Changing an admin's password (required after a one-time password).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;
use serde::Deserialize;
use tenancy::password::{self, MIN_PASSWORD_LEN};
use tenancy::{Db, admins, sessions};

use super::see_other;
use crate::error::ConsoleError;
use crate::form::Form;
use crate::layout::Layout;
use crate::session::{Console, SESSION_COOKIE, flash_cookie};

/// The change-password page.
#[derive(Template, WebTemplate)]
#[template(path = "password.html")]
pub struct PasswordPage {
    layout: Layout,
    must_change: bool,
    min_len: usize,
    error: Option<String>,
}

/// The change-password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    // A missing token is refused like a wrong one (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
    current: String,
    new_password: String,
    confirm: String,
}

/// GET /console/password
pub async fn show_password(console: Console) -> PasswordPage {
    page(&console, None)
}

fn page(console: &Console, error: Option<String>) -> PasswordPage {
    PasswordPage {
        layout: Layout::new(console, "", "Change password"),
        must_change: console.admin.must_change_password,
        min_len: MIN_PASSWORD_LEN,
        error,
    }
}

/// POST /console/password
pub async fn change_password(
    console: Console,
    req: HttpRequest,
    form: Form<PasswordForm>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let form = form.into_inner();
    let rejected = |message: &str| -> Result<HttpResponse, ConsoleError> {
        let body = page(&console, Some(message.to_owned()))
            .render()
            .map_err(|_| ConsoleError::Internal)?;
        Ok(HttpResponse::BadRequest()
            .content_type("text/html; charset=utf-8")
            .body(body))
    };
    if form.new_password != form.confirm {
        return rejected("The new passwords do not match.");
    }
    if let Err(tenancy::Error::Invalid(message)) = password::check_new_password(&form.new_password)
    {
        return rejected(&message);
    }
    if form.new_password == form.current {
        return rejected("Choose a password different from the current one.");
    }
    let admin = console.admin.clone();
    let keep = req
        .cookie(SESSION_COOKIE)
        .map(|c| c.value().to_owned())
        .unwrap_or_default();
    let changed = db
        .run(
            admin.tenant_id,
            move |conn| -> Result<bool, tenancy::Error> {
                if !password::verify_password(&form.current, &admin.password_hash) {
                    return Ok(false);
                }
                let hash = password::hash_password(&form.new_password)?;
                admins::set_password_hash(conn, admin.tenant_id, admin.id, &hash, Utc::now())?;
                // Other sessions of this admin end: whoever knew the old password is signed out.
                let keep_hash = keep
                    .split_once('.')
                    .map(|(_, secret)| tenancy::secret::sha256(secret));
                sessions::delete_admin_sessions(
                    conn,
                    admin.tenant_id,
                    admin.id,
                    keep_hash.as_ref().map(|h| &h[..]),
                )?;
                Ok(true)
            },
        )
        .await?;
    if !changed {
        return rejected("The current password is not right.");
    }
    let mut response = see_other("/console");
    response
        .add_cookie(&flash_cookie("Your password was changed."))
        .map_err(|_| ConsoleError::Internal)?;
    Ok(response)
}
