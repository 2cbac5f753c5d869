//! Users: the searchable list (name, title, department, status counts, page size and page
//! jump), a user's page (profile, work and contact facts, how they were deactivated, groups,
//! cards) and adding or removing a card.

mod profile;
pub mod service;

use actix_web::http::StatusCode;
use actix_web::web;
use askama::Template;
use serde::Deserialize;
use tenancy::directory::users::UserRow;
use tenancy::stored::UserSource;
use tenancy::{CardId, Db, UserId};

use self::profile::Fact;
use self::service::{CardAdded, CardRefused, UserDetail, UserSearch};
use crate::error::ConsoleError;
use crate::form::CsrfForm;
use crate::layout::{Layout, time};
use crate::listing::{Pager, Paging, thousands};
use crate::page::Page;
use crate::session::Console;

/// The user list's query.
#[derive(Debug, Default, Deserialize)]
pub struct UserQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    active: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

/// A row of the list.
pub struct UserLine {
    id: String,
    user_name: String,
    name: String,
    /// The email when it is not the userName (Okta's userName usually is the email).
    other_email: String,
    title: String,
    department: String,
    active: bool,
    source: String,
}

/// A status filter with its count, as a link.
pub struct StatusTab {
    label: &'static str,
    count: String,
    href: String,
    current: bool,
}

/// The list page.
#[derive(Template)]
#[template(path = "users/list.html")]
struct UsersPage {
    layout: Layout,
    q: String,
    active: String,
    source: String,
    users: Vec<UserLine>,
    tabs: Vec<StatusTab>,
    total: String,
    pager: Pager,
}

/// GET /console/users
pub async fn list_users(
    console: Console,
    query: web::Query<UserQuery>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let query = query.into_inner();
    let search = UserSearch {
        text: query.q.trim().to_owned(),
        active: match query.active.as_str() {
            "active" => Some(true),
            "inactive" => Some(false),
            _ => None,
        },
        source: UserSource::parse(&query.source),
    };
    let paging = Paging::asked(query.page, query.per_page);
    let list = service::list_users(
        &db,
        console.tenant.id,
        &search,
        paging.offset(),
        paging.per_page,
    )
    .await?;
    let params = |active: &str| {
        vec![
            ("q", query.q.clone()),
            ("active", active.to_owned()),
            ("source", query.source.clone()),
        ]
    };
    let pager = Pager::new(
        "/console/users",
        paging,
        list.total,
        false,
        params(&query.active),
    );
    if let Some(last) = pager.past_end() {
        return Ok(Page::see_other(&last));
    }
    let tab = |label, value: &str, count| {
        let tab_pager = Pager::new("/console/users", paging, 0, false, params(value));
        StatusTab {
            label,
            count: thousands(count),
            href: tab_pager.href(1),
            current: query.active == value,
        }
    };
    let tabs = vec![
        tab("All", "", list.counts.all()),
        tab("Active", "active", list.counts.active),
        tab("Deactivated", "inactive", list.counts.deactivated),
    ];
    Page::ok(&UsersPage {
        layout: Layout::new(&console, "users", "Users"),
        users: list.rows.iter().map(line).collect(),
        tabs,
        total: thousands(list.counts.all()),
        pager,
        q: query.q,
        active: query.active,
        source: query.source,
    })
}

fn line(row: &UserRow) -> UserLine {
    let email = row.email.clone().unwrap_or_default();
    UserLine {
        id: row.id.to_string(),
        name: row.name_or_user_name(),
        other_email: if email.eq_ignore_ascii_case(&row.user_name) {
            String::new()
        } else {
            email
        },
        user_name: row.user_name.clone(),
        title: profile::title(&row.attributes).unwrap_or_default(),
        department: profile::department(&row.attributes).unwrap_or_default(),
        active: row.active,
        source: row.source.to_string(),
    }
}

/// A card as shown.
pub struct CardLine {
    id: String,
    number: String,
    source: String,
    added: String,
}

/// The manager as shown: a link when the manager is a user here.
pub struct ManagerLine {
    href: Option<String>,
    name: String,
}

/// The user detail page.
#[derive(Template)]
#[template(path = "users/detail.html")]
struct UserPage {
    layout: Layout,
    id: String,
    user: UserLine,
    email: String,
    managed_by_idp: bool,
    external_id: String,
    created: String,
    updated: String,
    /// "Deactivated on … by …", for a deactivated user.
    deactivation: Option<String>,
    /// The event page of the request that deactivated the user.
    deactivation_event: Option<i64>,
    /// "Linked to your identity provider on … by …", for a user SCIM took over.
    linked: Option<String>,
    history: Vec<crate::pages::activity::EventLine>,
    work: Vec<Fact>,
    contact: Vec<Fact>,
    manager: Option<ManagerLine>,
    attributes: String,
    groups: Vec<(String, String)>,
    cards: Vec<CardLine>,
    card_error: Option<CardRefused>,
    card_number: String,
}

/// GET /console/users/{id}
pub async fn show_user(
    console: Console,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let id = user_id(&path)?;
    let detail = service::user_detail(&db, console.tenant.id, id).await?;
    Page::ok(&user_page(&console, detail, None, String::new()))
}

fn user_id(raw: &str) -> Result<UserId, ConsoleError> {
    raw.parse().map_err(|_| ConsoleError::NotFound)
}

fn user_page(
    console: &Console,
    detail: UserDetail,
    card_error: Option<CardRefused>,
    card_number: String,
) -> UserPage {
    let UserDetail {
        row,
        groups,
        cards,
        manager,
        deactivated_by,
        history,
    } = detail;
    let deactivation = match (row.active, row.deactivated_at) {
        (true, _) => None,
        (false, at) => Some(deactivation_words(at, deactivated_by.as_ref(), row.source)),
    };
    UserPage {
        layout: Layout::new(console, "users", row.user_name.clone()),
        id: row.id.to_string(),
        email: row.email.clone().unwrap_or_default(),
        managed_by_idp: row.source == UserSource::Scim,
        external_id: row.external_id.clone().unwrap_or_default(),
        created: time(row.created_at),
        updated: time(row.updated_at),
        deactivation,
        deactivation_event: deactivated_by.map(|e| e.id),
        linked: row.linked_at.map(|at| {
            let by = match row.linked_by.as_deref() {
                Some("automatic") | None => {
                    "automatically (the tenant links existing users)".to_owned()
                }
                Some(admin) => admin.to_owned(),
            };
            format!("{} by {by}", time(at))
        }),
        history: crate::pages::activity::history_lines(&history),
        work: profile::work_facts(&row.attributes),
        contact: profile::contact_facts(&row.attributes),
        manager: manager.map(|m| match m.user {
            Some((id, name)) => ManagerLine {
                href: Some(format!("/console/users/{id}")),
                name,
            },
            None => ManagerLine {
                href: None,
                name: m.sent,
            },
        }),
        attributes: serde_json::to_string_pretty(&row.attributes).unwrap_or_default(),
        groups: groups
            .into_iter()
            .map(|(g, name)| (g.to_string(), name))
            .collect(),
        cards: cards
            .iter()
            .map(|card| CardLine {
                id: card.id.to_string(),
                number: card.card_number.clone(),
                source: card.source.to_string(),
                added: time(card.created_at),
            })
            .collect(),
        user: line(&row),
        card_error,
        card_number,
    }
}

/// When and how a user was deactivated, in words.
fn deactivation_words(
    at: Option<chrono::DateTime<chrono::Utc>>,
    by: Option<&tenancy::events::EventRow>,
    source: UserSource,
) -> String {
    let when = at.map_or_else(String::new, |at| format!(" on {}", time(at)));
    match by {
        Some(event) => {
            let how = match event.method.as_str() {
                "PATCH" => "an update (PATCH) that set active to false",
                "PUT" => "a replace (PUT) with active false",
                _ => "a create (POST) with active false",
            };
            format!("Deactivated{when} by your identity provider, with {how}.")
        }
        None if source == UserSource::Import => {
            format!("Deactivated{when}, by a CSV import (active set to false).")
        }
        None => format!(
            "Deactivated{when}. No request from your identity provider about this is recorded: it was deactivated by an import or before the activity log began."
        ),
    }
}

/// The add-card form.
#[derive(Debug, Deserialize)]
pub struct CardForm {
    #[serde(default)]
    card_number: String,
}

/// POST /console/users/{id}/cards
pub async fn add_card(
    path: web::Path<String>,
    submitted: CsrfForm<CardForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { console, form } = submitted;
    let id = user_id(&path)?;
    let number = form.card_number;
    match service::add_card(&db, console.tenant.id, id, number.clone(), console.actor()).await? {
        CardAdded::Added(card) => Ok(Page::see_other(&format!("/console/users/{id}#cards"))
            .flash(&format!("Card {} added.", card.card_number))),
        CardAdded::Refused(detail, refused) => {
            Ok(
                Page::ok(&user_page(&console, *detail, Some(refused), number))?
                    .with_status(StatusCode::BAD_REQUEST),
            )
        }
    }
}

/// The remove-card form (the token only).
#[derive(Debug, Deserialize)]
pub struct RemoveCardForm {}

/// POST /console/users/{id}/cards/{card}/remove
pub async fn remove_card(
    path: web::Path<(String, String)>,
    submitted: CsrfForm<RemoveCardForm>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let (user, card) = path.into_inner();
    let user = user_id(&user)?;
    let card: CardId = card.parse().map_err(|_| ConsoleError::NotFound)?;
    service::remove_card(
        &db,
        submitted.console.tenant.id,
        user,
        card,
        submitted.console.actor(),
    )
    .await?;
    Ok(Page::see_other(&format!("/console/users/{user}#cards")).flash("Card removed."))
}
