//! Secure > Advanced > User and Group Sync > Provisioning safety: the circuit breaker's banner
//! with its batch, **Undo** and **Acknowledge**; **Pause provisioning** and **Resume**; **Revoke
//! all tokens now** with a typed confirmation; the adoption setting and the matches waiting for
//! review (**Link**, **Keep separate**); the deleted users kept, with **Restore**. Every action
//! is one transaction that also writes its activity-log entry.

mod service;
pub mod view;

use actix_web::web;
use chrono::Utc;
use serde::Deserialize;
use tenancy::safety::adoption::Adoption;
use tenancy::scim_tokens::TokenCache;
use tenancy::{Db, UserId};

pub use self::service::{OpenTrip, SafetyState, load, open_trip};
use self::view::SafetyPage;
use crate::error::ConsoleError;
use crate::form::{CsrfForm, EmptyForm};
use crate::layout::Layout;
use crate::page::Page;
use crate::session::Console;

/// The page.
pub const PAGE: &str = "/console/secure/advanced/user-group-sync/safety";
/// What the typed confirmation of Revoke all tokens must say.
pub const REVOKE_CONFIRMATION: &str = "REVOKE";

/// The deleted users' search.
#[derive(Debug, Deserialize)]
pub struct SafetyQuery {
    #[serde(default)]
    q: Option<String>,
}

/// GET /console/secure/advanced/user-group-sync/safety
pub async fn show_safety(
    console: Console,
    query: web::Query<SafetyQuery>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let search = query
        .into_inner()
        .q
        .map(|q| q.trim().chars().take(200).collect::<String>())
        .filter(|q| !q.is_empty());
    let state = load(&db, console.tenant.id, search.clone(), Utc::now()).await?;
    Page::ok(&SafetyPage::new(
        Layout::new(&console, "secure", "Provisioning safety"),
        state,
        search.unwrap_or_default(),
        Utc::now(),
    ))
}

/// POST …/safety/pause
pub async fn pause(
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<Page, ConsoleError> {
    set_paused(submitted.console, &db, &tokens, true).await
}

/// POST …/safety/resume
pub async fn resume(
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<Page, ConsoleError> {
    set_paused(submitted.console, &db, &tokens, false).await
}

async fn set_paused(
    console: Console,
    db: &Db,
    tokens: &TokenCache,
    paused: bool,
) -> Result<Page, ConsoleError> {
    let changed = service::set_paused(db, console.tenant.id, paused, console.actor()).await?;
    // Every server learns it from the announcement; this one before it answers.
    tokens.catch_up(db).await?;
    Ok(Page::see_other(PAGE).flash(match (paused, changed) {
        (true, true) => {
            "Provisioning is paused: your identity provider's requests are answered “retry later” until you resume."
        }
        (true, false) => "Provisioning was paused already.",
        (false, true) => "Provisioning resumed: your identity provider's next retries are applied.",
        (false, false) => "Provisioning was not paused.",
    }))
}

/// The Revoke all tokens form.
#[derive(Debug, Deserialize)]
pub struct RevokeAllForm {
    #[serde(default)]
    confirm: String,
}

/// POST …/safety/revoke-all
pub async fn revoke_all(
    submitted: CsrfForm<RevokeAllForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    if form.confirm.trim() != REVOKE_CONFIRMATION {
        return Ok(
            Page::see_other(&format!("{PAGE}#revoke-all")).flash(&format!(
                "Nothing was revoked: type {REVOKE_CONFIRMATION} in capitals to confirm."
            )),
        );
    }
    let revoked = service::revoke_all(&db, console.tenant.id, console.actor()).await?;
    tokens.catch_up(&db).await?;
    Ok(
        Page::see_other("/console/secure/advanced/user-group-sync").flash(&format!(
            "{revoked} token(s) revoked: every request with them is refused from now on, on every \
             server within {} seconds. Generate a new token when you are ready to reconnect.",
            tenancy::scim_tokens::REFUSED_EVERYWHERE_WITHIN.as_secs()
        )),
    )
}

/// The adoption setting's form.
#[derive(Debug, Deserialize)]
pub struct AdoptionForm {
    #[serde(default)]
    adoption: String,
}

/// POST …/safety/adoption
pub async fn set_adoption(
    submitted: CsrfForm<AdoptionForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let Some(mode) = Adoption::parse(&form.adoption) else {
        return Ok(
            Page::see_other(&format!("{PAGE}#adoption")).flash("Choose one of the three settings.")
        );
    };
    service::set_adoption(&db, console.tenant.id, mode, console.actor()).await?;
    tokens.catch_up(&db).await?;
    Ok(Page::see_other(&format!("{PAGE}#adoption")).flash("The adoption setting was saved."))
}

fn user_id(path: &str) -> Result<UserId, ConsoleError> {
    path.parse().map_err(|_| ConsoleError::NotFound)
}

/// POST …/safety/conflicts/{id}/link
pub async fn link(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let user = user_id(&path)?;
    let message = match service::link(&db, console.tenant.id, user, console.actor()).await? {
        Ok(row) => format!(
            "{} is linked: your identity provider finds it at its next retry and manages it from now on.",
            row.user_name
        ),
        Err(message) => message,
    };
    Ok(Page::see_other(&format!("{PAGE}#review")).flash(&message))
}

/// POST …/safety/conflicts/{id}/separate
pub async fn keep_separate(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let user = user_id(&path)?;
    service::keep_separate(&db, console.tenant.id, user, console.actor()).await?;
    Ok(Page::see_other(&format!("{PAGE}#review")).flash(
        "Kept separate: the identity provider must use another userName for its user; a match by e-mail alone no longer holds it.",
    ))
}

/// POST …/safety/deleted/{id}/restore
pub async fn restore(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let user = user_id(&path)?;
    let restored = service::restore(&db, console.tenant.id, user, console.actor()).await?;
    Ok(Page::see_other(&format!("{PAGE}#deleted")).flash(if restored {
        "The user is restored with its cards and groups. If your identity provider still has it unassigned, it may delete it again."
    } else {
        "The user could not be restored: another user has its userName now, or it was removed for good."
    }))
}

fn trip_id(path: &str) -> Result<uuid::Uuid, ConsoleError> {
    path.parse().map_err(|_| ConsoleError::NotFound)
}

/// POST …/safety/trips/{id}/undo
pub async fn undo(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let trip = trip_id(&path)?;
    let undone = service::undo(&db, console.tenant.id, trip, console.actor()).await?;
    let mut message = format!(
        "Undone: {} user(s) reactivated and {} restored with their cards and groups.",
        undone.reactivated, undone.restored
    );
    if undone.not_restored > 0 {
        message.push_str(&format!(
            " {} could not be restored (their userName is taken now).",
            undone.not_restored
        ));
    }
    Ok(Page::see_other(PAGE).flash(&message))
}

/// POST …/safety/trips/{id}/acknowledge
pub async fn acknowledge(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let trip = trip_id(&path)?;
    service::acknowledge(&db, console.tenant.id, trip, console.actor()).await?;
    Ok(Page::see_other(PAGE).flash(
        "Acknowledged: the banner is gone, and the run's deleted users follow the normal retention again.",
    ))
}
