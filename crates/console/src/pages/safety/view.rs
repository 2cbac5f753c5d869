//! Provisioning safety as the page shows it: the breaker's banner (also on User and Group
//! Sync), the pause, the adoption setting, the review of held matches and the deleted users.

use askama::Template;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tenancy::safety::adoption::{Adoption, Conflict};

use super::{OpenTrip, REVOKE_CONFIRMATION, SafetyState};
use crate::layout::{Layout, ago, time};

/// Users of a trip listed on the page (the rest are counted).
const BATCH_SHOWN: usize = 200;

/// The breaker's banner.
#[derive(Debug, Clone)]
pub struct BannerView {
    /// The trip's id (for the forms).
    pub id: String,
    /// "Your identity provider deactivated 312 of 340 users in 4 minutes."
    pub headline: String,
    /// Since when, in words.
    pub since: String,
    /// The threshold in words.
    pub threshold: String,
    /// The batch (at most [`BATCH_SHOWN`]).
    pub users: Vec<BatchRow>,
    /// How many more are not listed.
    pub more: usize,
    /// When, by whom and how many an undo put back.
    pub undone: Option<String>,
}

/// One user of the batch.
#[derive(Debug, Clone)]
pub struct BatchRow {
    /// Its userName.
    pub user_name: String,
    /// Deactivated or deleted, and when.
    pub what: String,
    /// Now: active, deactivated, deleted (kept) or gone.
    pub now: &'static str,
}

impl BannerView {
    /// The banner of an open trip.
    pub fn of(open: &OpenTrip, now: DateTime<Utc>) -> Self {
        let deleted = open
            .batch
            .iter()
            .filter(|u| u.operation == "delete")
            .count();
        let deactivated = open.batch.len() - deleted;
        let span = match (open.batch.first(), open.batch.last()) {
            (Some(first), Some(last)) => last.at - first.at,
            _ => chrono::Duration::zero(),
        };
        let minutes = span.num_minutes();
        let within = if minutes < 1 {
            format!("{} seconds", span.num_seconds().max(1))
        } else if minutes < 120 {
            format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
        } else {
            format!("{} hours", span.num_hours())
        };
        let what = match (deactivated, deleted) {
            (d, 0) => format!("deactivated {d}"),
            (0, x) => format!("deleted {x}"),
            (d, x) => format!("deactivated {d} and deleted {x}"),
        };
        let headline = format!(
            "Your identity provider {what} of {} users in {within}.",
            open.trip.active_before
        );
        let users = open
            .batch
            .iter()
            .take(BATCH_SHOWN)
            .map(|u| BatchRow {
                user_name: u.user_name.clone().unwrap_or_else(|| u.id.to_string()),
                what: format!(
                    "{} {}",
                    if u.operation == "delete" {
                        "Deleted"
                    } else {
                        "Deactivated"
                    },
                    time(u.at)
                ),
                now: match (u.kept, u.active, u.user_name.is_some()) {
                    (true, _, _) => "Deleted, restorable",
                    (false, true, _) => "Active again",
                    (false, false, true) => "Deactivated",
                    (false, false, false) => "Removed for good",
                },
            })
            .collect();
        Self {
            id: open.trip.id.to_string(),
            headline,
            since: format!(
                "{} ({})",
                time(open.trip.started_at),
                ago(open.trip.started_at, now)
            ),
            threshold: format!(
                "more than {} deactivations and deletions within an hour",
                open.trip.threshold
            ),
            more: open.batch.len().saturating_sub(BATCH_SHOWN),
            users,
            undone: open.trip.undone_at.map(|at| {
                format!(
                    "Undone {} by {}: {} user(s) put back.",
                    time(at),
                    open.trip.undone_by.clone().unwrap_or_default(),
                    open.trip.undone_users.unwrap_or(0)
                )
            }),
        }
    }
}

/// One side of a held match.
#[derive(Debug, Clone)]
pub struct Person {
    /// userName.
    pub user_name: String,
    /// The name shown.
    pub name: String,
    /// E-mail address.
    pub email: String,
    /// Where it came from, or whether it is active.
    pub state: String,
}

/// A held match, side by side.
#[derive(Debug, Clone)]
pub struct ConflictView {
    /// The existing user's id (for the forms and its page).
    pub id: String,
    /// How they matched, in words.
    pub matched_on: &'static str,
    /// The existing user (its state: where it came from).
    pub existing: Person,
    /// What the identity provider sent (its state: active or not).
    pub incoming: Person,
    /// Attempts and when, in words.
    pub seen: String,
    /// Kept separate: by whom.
    pub kept_separate: Option<String>,
}

impl ConflictView {
    fn of(Conflict { existing, held }: &Conflict) -> Self {
        let text = |pointer: &str| {
            held.payload
                .pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let email = held
            .payload
            .get("emails")
            .and_then(Value::as_array)
            .and_then(|list| list.first())
            .and_then(|e| e.get("value"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let name = {
            let display = text("/displayName");
            if display.is_empty() {
                format!("{} {}", text("/name/givenName"), text("/name/familyName"))
                    .trim()
                    .to_owned()
            } else {
                display
            }
        };
        Self {
            id: existing.id.to_string(),
            matched_on: if held.matched_on == "email" {
                "Same e-mail address"
            } else {
                "Same userName"
            },
            existing: Person {
                user_name: existing.user_name.clone(),
                name: existing.shown_name(),
                email: existing.email.clone().unwrap_or_default(),
                state: match existing.source.as_str() {
                    "import" => "CSV import".to_owned(),
                    _ => "Created in the console".to_owned(),
                },
            },
            incoming: Person {
                user_name: held.user_name.clone(),
                name,
                email,
                state: if held.payload.get("active") == Some(&Value::Bool(false)) {
                    "Inactive".to_owned()
                } else {
                    "Active".to_owned()
                },
            },
            seen: format!(
                "{} attempt{}, last {}",
                held.attempts,
                if held.attempts == 1 { "" } else { "s" },
                time(held.last_seen_at)
            ),
            kept_separate: held
                .decision
                .as_ref()
                .map(|_| held.decided_by.clone().unwrap_or_default()),
        }
    }
}

/// A deleted user, in words.
#[derive(Debug, Clone)]
pub struct DeletedView {
    /// Its id (for the form).
    pub id: String,
    /// Its userName.
    pub user_name: String,
    /// Its name.
    pub name: String,
    /// When and by whom.
    pub deleted: String,
    /// When it goes for good (or that a trip holds it).
    pub until: String,
}

/// The page.
#[derive(Template)]
#[template(path = "secure/advanced/safety.html")]
pub struct SafetyPage {
    layout: Layout,
    banner: Option<BannerView>,
    paused: Option<String>,
    adoption: &'static str,
    adoption_choices: Vec<(&'static str, &'static str, &'static str)>,
    conflicts: Vec<ConflictView>,
    waiting: i64,
    deleted: Vec<DeletedView>,
    deleted_total: i64,
    search: String,
    confirmation: &'static str,
    shadow: bool,
}

impl SafetyPage {
    /// The page for `state`.
    pub fn new(layout: Layout, state: SafetyState, search: String, now: DateTime<Utc>) -> Self {
        let held_since = state.trip.as_ref().map(|open| open.trip.started_at);
        Self {
            layout,
            banner: state.trip.as_ref().map(|trip| BannerView::of(trip, now)),
            paused: state
                .paused
                .map(|(at, by)| format!("since {} by {by}", time(at))),
            adoption: state.adoption.as_str(),
            adoption_choices: vec![
                (
                    Adoption::Ask.as_str(),
                    "Ask me (recommended)",
                    "Such a user is not shown to the identity provider, and its create is answered “conflict” until you link them or keep them separate below.",
                ),
                (
                    Adoption::Link.as_str(),
                    "Link automatically",
                    "The identity provider takes the existing user over at once: its fields are replaced by the identity provider's.",
                ),
                (
                    Adoption::Refuse.as_str(),
                    "Refuse",
                    "Never link: a create with the userName of such a user is answered “conflict”. A match by e-mail alone creates a separate user.",
                ),
            ],
            conflicts: state.conflicts.iter().map(ConflictView::of).collect(),
            waiting: state.waiting,
            deleted: state
                .deleted
                .into_iter()
                .map(|d| DeletedView {
                    id: d.id.to_string(),
                    name: d.shown_name,
                    deleted: format!(
                        "{} by {}",
                        time(d.deleted_at),
                        if d.deleted_by == "scim" {
                            "the identity provider"
                        } else {
                            d.deleted_by.as_str()
                        }
                    ),
                    until: if held_since.is_some_and(|since| d.deleted_at >= since) {
                        "Held while the circuit breaker is tripped".to_owned()
                    } else {
                        format!("Kept until {}", time(d.purge_after))
                    },
                    user_name: d.user_name,
                })
                .collect(),
            deleted_total: state.deleted_total,
            search,
            confirmation: REVOKE_CONFIRMATION,
            shadow: state.shadow,
        }
    }
}
