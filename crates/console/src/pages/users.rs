//! Users: search and filter, a user's attributes, groups and cards; admins add and remove cards.

use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;
use chrono::Utc;
use serde::Deserialize;
use tenancy::directory::cards::{self, CardRow};
use tenancy::directory::users::{self, UserRow};
use tenancy::directory::{Condition, Page, SqlValue};
use tenancy::stored::{CardSource, UserSource};
use tenancy::{CardId, Db, UserId};

use super::see_other;
use crate::error::{ConsoleError, encode};
use crate::form::Form;
use crate::layout::{Layout, time};
use crate::session::{Console, flash_cookie};

/// Users per page.
const PER_PAGE: i64 = 50;

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
}

/// A row of the list.
pub struct UserLine {
    id: String,
    user_name: String,
    name: String,
    email: String,
    active: bool,
    source: String,
}

/// The list page.
#[derive(Template, WebTemplate)]
#[template(path = "users/list.html")]
pub struct UsersPage {
    layout: Layout,
    q: String,
    active: String,
    source: String,
    users: Vec<UserLine>,
    total: i64,
    page: i64,
    pages: i64,
    query_base: String,
}

/// GET /console/users
pub async fn list_users(
    console: Console,
    query: web::Query<UserQuery>,
    db: web::Data<Db>,
) -> Result<UsersPage, ConsoleError> {
    let query = query.into_inner();
    let condition = search_condition(&query);
    let page_number = super::page_number(query.page);
    let page = Page {
        offset: (page_number - 1) * PER_PAGE,
        limit: PER_PAGE,
        order_by: Some("lower(u.user_name)"),
        descending: false,
    };
    let tenant = console.tenant.id;
    let (rows, total) = db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            Ok((
                users::list(conn, tenant, &condition, &page)?,
                users::count(conn, tenant, &condition)?,
            ))
        })
        .await?;
    let query_base = format!(
        "q={}&active={}&source={}",
        encode(&query.q),
        encode(&query.active),
        encode(&query.source)
    );
    Ok(UsersPage {
        layout: Layout::new(&console, "users", "Users"),
        users: rows.iter().map(line).collect(),
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        total,
        page: page_number,
        q: query.q,
        active: query.active,
        source: query.source,
        query_base,
    })
}

fn line(row: &UserRow) -> UserLine {
    UserLine {
        id: row.id.to_string(),
        user_name: row.user_name.clone(),
        name: row.shown_name(),
        email: row.email.clone().unwrap_or_default(),
        active: row.active,
        source: row.source.to_string(),
    }
}

/// The SQL condition of the search form; every value is a bind parameter.
fn search_condition(query: &UserQuery) -> Condition {
    let mut parts = Vec::new();
    let mut binds = Vec::new();
    let q = query.q.trim();
    if !q.is_empty() {
        parts.push(
            "(strpos(lower(u.user_name), lower($?)) > 0 OR strpos(lower(coalesce(u.display_name, '')), lower($?)) > 0 \
             OR strpos(lower(coalesce(u.email, '')), lower($?)) > 0 \
             OR strpos(lower(concat_ws(' ', u.given_name, u.family_name)), lower($?)) > 0)",
        );
        binds.extend((0..4).map(|_| SqlValue::Text(q.to_owned())));
    }
    match query.active.as_str() {
        "active" => {
            parts.push("u.active = $?");
            binds.push(SqlValue::Bool(true));
        }
        "inactive" => {
            parts.push("u.active = $?");
            binds.push(SqlValue::Bool(false));
        }
        _ => {}
    }
    if matches!(query.source.as_str(), "scim" | "import" | "console") {
        parts.push("u.source = $?");
        binds.push(SqlValue::Text(query.source.clone()));
    }
    if parts.is_empty() {
        Condition::always()
    } else {
        Condition {
            sql: parts.join(" AND "),
            binds,
        }
    }
}

/// A card as shown.
pub struct CardLine {
    id: String,
    number: String,
    source: String,
    added: String,
}

/// The user detail page.
#[derive(Template, WebTemplate)]
#[template(path = "users/detail.html")]
pub struct UserPage {
    layout: Layout,
    id: String,
    user: UserLine,
    managed_by_idp: bool,
    external_id: String,
    created: String,
    updated: String,
    attributes: String,
    groups: Vec<(String, String)>,
    cards: Vec<CardLine>,
    card_error: Option<String>,
}

/// GET /console/users/{id}
pub async fn show_user(
    console: Console,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<UserPage, ConsoleError> {
    user_page(&console, &db, &path, None).await
}

async fn user_page(
    console: &Console,
    db: &Db,
    raw_id: &str,
    card_error: Option<String>,
) -> Result<UserPage, ConsoleError> {
    let id: UserId = raw_id.parse().map_err(|_| ConsoleError::NotFound)?;
    let tenant = console.tenant.id;
    let (row, groups, cards) = db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            let row = users::find(conn, tenant, id)?.ok_or(tenancy::Error::NotFound)?;
            let groups = users::groups_of(conn, tenant, &[id])?;
            let cards = cards::for_user(conn, tenant, id)?;
            Ok((row, groups, cards))
        })
        .await?;
    Ok(UserPage {
        layout: Layout::new(console, "users", row.user_name.clone()),
        id: row.id.to_string(),
        managed_by_idp: row.source == UserSource::Scim,
        external_id: row.external_id.clone().unwrap_or_default(),
        created: time(row.created_at),
        updated: time(row.updated_at),
        attributes: serde_json::to_string_pretty(&row.attributes).unwrap_or_default(),
        groups: groups
            .into_iter()
            .map(|(_, g, name)| (g.to_string(), name))
            .collect(),
        cards: cards.iter().map(card_line).collect(),
        user: line(&row),
        card_error,
    })
}

fn card_line(card: &CardRow) -> CardLine {
    CardLine {
        id: card.id.to_string(),
        number: card.card_number.clone(),
        source: card.source.to_string(),
        added: time(card.created_at),
    }
}

/// The add-card form.
#[derive(Debug, Deserialize)]
pub struct CardForm {
    // A missing token is refused like a wrong one (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
    card_number: String,
}

/// POST /console/users/{id}/cards
pub async fn add_card(
    console: Console,
    path: web::Path<String>,
    form: Form<CardForm>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let id: UserId = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let tenant = console.tenant.id;
    let number = form.card_number.clone();
    let result = db
        .run(tenant, move |conn| -> Result<CardRow, tenancy::Error> {
            users::find(conn, tenant, id)?.ok_or(tenancy::Error::NotFound)?;
            cards::add(conn, tenant, id, &number, CardSource::Console, Utc::now())
        })
        .await;
    let message = match result {
        Ok(card) => format!("Card {} added.", card.card_number),
        Err(tenancy::Error::Conflict { .. }) => {
            let page = user_page(
                &console,
                &db,
                &path,
                Some("This card number is already in use in this organisation.".into()),
            )
            .await?;
            return form_error(page);
        }
        Err(tenancy::Error::Invalid(message)) => {
            let page = user_page(&console, &db, &path, Some(message)).await?;
            return form_error(page);
        }
        Err(other) => return Err(other.into()),
    };
    redirect_with(&format!("/console/users/{id}"), &message)
}

/// The remove-card form.
#[derive(Debug, Deserialize)]
pub struct RemoveCardForm {
    // A missing token is refused like a wrong one (403), not as an unreadable form.
    #[serde(default)]
    csrf: String,
}

/// POST /console/users/{id}/cards/{card}/remove
pub async fn remove_card(
    console: Console,
    path: web::Path<(String, String)>,
    form: Form<RemoveCardForm>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ConsoleError> {
    console.check_csrf(&form.csrf)?;
    let (user, card) = path.into_inner();
    let user: UserId = user.parse().map_err(|_| ConsoleError::NotFound)?;
    let card: CardId = card.parse().map_err(|_| ConsoleError::NotFound)?;
    let tenant = console.tenant.id;
    let removed = db
        .run(tenant, move |conn| cards::remove(conn, tenant, user, card))
        .await?;
    if !removed {
        return Err(ConsoleError::NotFound);
    }
    redirect_with(&format!("/console/users/{user}"), "Card removed.")
}

fn form_error(page: UserPage) -> Result<HttpResponse, ConsoleError> {
    let body = page.render().map_err(|_| ConsoleError::Internal)?;
    Ok(HttpResponse::BadRequest()
        .content_type("text/html; charset=utf-8")
        .body(body))
}

fn redirect_with(location: &str, message: &str) -> Result<HttpResponse, ConsoleError> {
    let mut response = see_other(location);
    response
        .add_cookie(&flash_cookie(message))
        .map_err(|_| ConsoleError::Internal)?;
    Ok(response)
}
