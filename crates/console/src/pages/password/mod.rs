//! Changing an admin's password (required after a one-time password).

mod service;

use actix_web::{HttpRequest, web};
use askama::Template;
use serde::Deserialize;
use tenancy::Db;
use tenancy::password::MIN_PASSWORD_LEN;

pub use self::service::{NewPassword, Refused, change_password as change};
use crate::error::ConsoleError;
use crate::form::CsrfForm;
use crate::layout::Layout;
use crate::page::Page;
use crate::session::{Console, SESSION_COOKIE};

/// The change-password page.
#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    layout: Layout,
    must_change: bool,
    min_len: usize,
    error: Option<String>,
    /// The current password as typed, kept when only the new ones were wrong.
    current: String,
}

/// The change-password form.
#[derive(Debug, Deserialize)]
pub struct PasswordForm {
    current: String,
    new_password: String,
    confirm: String,
}

/// GET /console/password
pub async fn show_password(console: Console) -> Result<Page, ConsoleError> {
    Page::ok(&page(&console, None, String::new()))
}

fn page(console: &Console, error: Option<String>, current: String) -> PasswordPage {
    PasswordPage {
        layout: Layout::new(console, "", "Change password"),
        must_change: console.admin.must_change_password,
        min_len: MIN_PASSWORD_LEN,
        error,
        current,
    }
}

/// POST /console/password
pub async fn change_password(
    req: HttpRequest,
    submitted: CsrfForm<PasswordForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let keep = req.cookie(SESSION_COOKIE).and_then(|c| {
        c.value()
            .split_once('.')
            .map(|(_, s)| tenancy::secret::sha256(s))
    });
    let typed = NewPassword {
        current: form.current.clone(),
        new_password: form.new_password,
        confirm: form.confirm,
    };
    match change(&db, &console.admin, typed, keep, console.actor()).await? {
        Ok(()) => Ok(Page::see_other("/console").flash("Your password was changed.")),
        Err(refused) => {
            // The current password stays filled in unless it was the thing that was wrong.
            let current = if refused == Refused::WrongCurrent {
                String::new()
            } else {
                form.current
            };
            Ok(Page::ok(&page(&console, Some(refused.message()), current))?
                .with_status(actix_web::http::StatusCode::BAD_REQUEST))
        }
    }
}
