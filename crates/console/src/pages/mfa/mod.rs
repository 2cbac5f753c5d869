//! Two-step sign-in (TOTP) for the signed-in password admin: set it up by scanning a QR code
//! rendered here (never by a third party: it holds the secret), confirm it with a code, keep
//! ten recovery codes shown once; replace them, or turn two-step sign-in off, with a code.

mod service;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;
use tenancy::Db;
use tenancy::admins::mfa;

use self::service::{Change, Confirmed, Standing};
use crate::error::ConsoleError;
use crate::form::CsrfForm;
use crate::layout::Layout;
use crate::oidc::Oidc;
use crate::page::Page;
use crate::session::Console;

/// The page, in one of its states.
#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    layout: Layout,
    view: View,
    /// The organisation requires two-step sign-in.
    required: bool,
    error: Option<String>,
}

/// What the page shows.
enum View {
    /// The admin signs in through the identity provider: nothing to set up here.
    Provider,
    /// Off: the button to set it up.
    Off,
    /// Setting up: the QR code (an inline SVG) and the secret to type instead.
    Scan { qr_svg: String, secret: String },
    /// Just turned on or renewed: the recovery codes, shown this once.
    Codes { codes: Vec<String>, fresh: bool },
    /// On, with this many recovery codes left.
    On { codes_left: i64 },
}

/// A form with one typed code.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    code: String,
}

/// A form with nothing but its CSRF token.
#[derive(Debug, Deserialize)]
pub struct StartForm {}

fn page(console: &Console, view: View, error: Option<String>) -> MfaPage {
    MfaPage {
        layout: Layout::new(console, "", "Two-step sign-in"),
        view,
        required: console.tenant.mfa_required,
        error,
    }
}

fn answer(console: &Console, view: View, error: Option<String>) -> Result<Page, ConsoleError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok(Page::ok(&page(console, view, error))?.with_status(status))
}

/// GET /console/mfa
pub async fn show_mfa(console: Console, db: web::Data<Db>) -> Result<Page, ConsoleError> {
    if console.admin.signs_in_with_provider() {
        return answer(&console, View::Provider, None);
    }
    let view = match service::standing(&db, &console).await? {
        Standing::On { codes_left } => View::On { codes_left },
        Standing::Off => View::Off,
    };
    answer(&console, view, None)
}

/// The QR code and secret of `secret` for `console`'s admin.
fn scan(console: &Console, secret: String) -> Result<View, ConsoleError> {
    let issuer = format!("Insights ({})", console.tenant.name);
    let uri = mfa::enrolment_uri(&secret, &issuer, &console.admin.email)?;
    let code = QrCode::new(uri.as_bytes()).map_err(|error| {
        tracing::error!(%error, "cannot draw the enrolment QR code");
        ConsoleError::Internal
    })?;
    let drawn = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    // Inline in the page, labelled for screen readers; the XML prolog has no place in HTML.
    let qr_svg = drawn
        .trim_start_matches(|c| c != '<')
        .split_once("?>")
        .map_or(drawn.as_str(), |(_, svg)| svg)
        .replacen(
            "<svg ",
            "<svg role=\"img\" aria-label=\"QR code to scan with your authenticator app\" ",
            1,
        );
    let grouped = secret
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(View::Scan {
        qr_svg,
        secret: grouped,
    })
}

/// POST /console/mfa/setup: a new secret to scan.
pub async fn start_setup(
    submitted: CsrfForm<StartForm>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    if console.admin.signs_in_with_provider() {
        return answer(&console, View::Provider, None);
    }
    let secret = service::begin(&db, oidc.keys(), &console).await?;
    answer(&console, scan(&console, secret)?, None)
}

/// POST /console/mfa/confirm: turns it on with a code from the new secret.
pub async fn confirm_setup(
    submitted: CsrfForm<CodeForm>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    if console.admin.has_mfa() {
        return Ok(Page::see_other("/console/mfa"));
    }
    match service::confirm(&db, oidc.keys(), &console, form.code).await? {
        Confirmed::Done(codes) => answer(&console, View::Codes { codes, fresh: true }, None),
        Confirmed::WrongCode => {
            // The secret being enrolled, as the request's own admin row holds it (sealed).
            let Some(secret) = mfa::secret_of(&console.admin, &oidc.keys())? else {
                return Ok(Page::see_other("/console/mfa"));
            };
            answer(&console, scan(&console, secret)?, Some(wrong_code()))
        }
    }
}

/// POST /console/mfa/recovery-codes: new recovery codes, with a current code.
pub async fn renew_codes(
    submitted: CsrfForm<CodeForm>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    enrolled_change(&db, &oidc, console, form.code, Change::RenewCodes).await
}

/// POST /console/mfa/disable: turns two-step sign-in off, with a current code; not where the
/// organisation requires it.
pub async fn turn_off(
    submitted: CsrfForm<CodeForm>,
    db: web::Data<Db>,
    oidc: web::Data<Oidc>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    if console.tenant.mfa_required {
        return Err(ConsoleError::BadRequest(
            "Your organisation requires two-step sign-in, so it cannot be turned off. To move it to a new phone, replace your recovery codes or ask an owner to reset it."
                .into(),
        ));
    }
    enrolled_change(&db, &oidc, console, form.code, Change::TurnOff).await
}

async fn enrolled_change(
    db: &Db,
    oidc: &Oidc,
    console: Console,
    code: String,
    change: Change,
) -> Result<Page, ConsoleError> {
    if !console.admin.has_mfa() {
        return Ok(Page::see_other("/console/mfa"));
    }
    match service::change(db, oidc.keys(), &console, code, change).await? {
        Confirmed::Done(codes) => match change {
            Change::RenewCodes => answer(
                &console,
                View::Codes {
                    codes,
                    fresh: false,
                },
                None,
            ),
            Change::TurnOff => {
                Ok(Page::see_other("/console/mfa").flash("Two-step sign-in is off."))
            }
        },
        Confirmed::WrongCode => {
            let codes_left = match service::standing(db, &console).await? {
                Standing::On { codes_left } => codes_left,
                Standing::Off => 0,
            };
            answer(&console, View::On { codes_left }, Some(wrong_code()))
        }
    }
}

fn wrong_code() -> String {
    "That code is not right, or it was used already. Type the code your authenticator app shows now.".into()
}
