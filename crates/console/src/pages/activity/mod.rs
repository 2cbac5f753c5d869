//! Provisioning activity: every SCIM request the identity provider made, with filters, a chart
//! of requests and errors per hour over the last 7 days, and each event's redacted payload.

mod chart;
pub mod service;

use actix_web::web;
use askama::Template;
use chrono::{Duration, DurationRound as _, Utc};
use serde::Deserialize;
use tenancy::Db;
use tenancy::events::{COUNT_LIMIT, EventFilter, EventRow};

use self::chart::{CHART_HOURS, Chart, chart};
use crate::error::ConsoleError;
use crate::layout::{Layout, time};
use crate::listing::{Pager, Paging};
use crate::page::Page;
use crate::session::Console;

/// The list's filters.
#[derive(Debug, Default, Deserialize)]
pub struct ActivityQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    range: String,
    /// Only requests about this resource (its SCIM id), as linked from a user's page.
    #[serde(default)]
    about: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
}

/// An event as listed.
pub struct EventLine {
    id: i64,
    at: String,
    operation: String,
    resource: String,
    status: i16,
    failed: bool,
    duration: String,
    error: String,
}

fn event_line(e: &EventRow) -> EventLine {
    EventLine {
        id: e.id,
        at: time(e.occurred_at),
        operation: operation(e),
        resource: match (&e.resource_type, &e.resource_id) {
            (Some(kind), Some(id)) => format!("{kind} {id}"),
            (Some(kind), None) => kind.clone(),
            _ => String::new(),
        },
        status: e.status,
        failed: e.status >= 400,
        duration: duration(e.duration_us),
        error: e.error.clone().unwrap_or_default(),
    }
}

/// What the request did, in words.
fn operation(e: &EventRow) -> String {
    let kind = e.resource_type.as_deref().unwrap_or("resource");
    let single = e.resource_id.is_some();
    match (e.method.as_str(), single) {
        ("POST", _) => format!("Create {kind}"),
        ("PUT", _) => format!("Replace {kind}"),
        ("PATCH", _) => format!("Update {kind}"),
        ("DELETE", _) => format!("Delete {kind}"),
        ("GET", true) => format!("Read {kind}"),
        ("GET", false) if e.path.contains("filter=") => format!("Search {kind}s"),
        ("GET", false) => format!("List {kind}s"),
        (method, _) => format!("{method} {kind}"),
    }
}

fn duration(us: i64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else {
        format!("{:.1} ms", us as f64 / 1000.0)
    }
}

/// The activity page.
#[derive(Template)]
#[template(path = "activity/list.html")]
struct ActivityPage {
    layout: Layout,
    status: String,
    resource: String,
    range: String,
    about: String,
    events: Vec<EventLine>,
    pager: Pager,
    chart: Chart,
}

/// GET /console/activity
pub async fn list_activity(
    console: Console,
    query: web::Query<ActivityQuery>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let query = query.into_inner();
    let now = Utc::now();
    let about = query.about.trim();
    let filter = EventFilter {
        failed: match query.status.as_str() {
            "failed" => Some(true),
            "succeeded" => Some(false),
            _ => None,
        },
        resource_type: matches!(query.resource.as_str(), "User" | "Group")
            .then(|| query.resource.clone()),
        resource_id: (!about.is_empty()).then(|| about.to_owned()),
        since: match query.range.as_str() {
            "24h" => Some(now - Duration::hours(24)),
            "7d" => Some(now - Duration::days(7)),
            "30d" => Some(now - Duration::days(30)),
            _ => None,
        },
        until: None,
    };
    let paging = Paging::asked(query.page, query.per_page);
    // 168 hourly slots whose last one is the current hour (which holds the newest requests).
    let chart_since =
        now.duration_trunc(Duration::hours(1)).unwrap_or(now) - Duration::hours(CHART_HOURS - 1);
    let list = service::list_activity(
        &db,
        console.tenant.id,
        filter,
        paging.offset(),
        paging.per_page,
        chart_since,
    )
    .await?;
    let capped = list.total > COUNT_LIMIT;
    let pager = Pager::new(
        "/console/activity",
        paging,
        list.total,
        capped,
        vec![
            ("status", query.status.clone()),
            ("resource", query.resource.clone()),
            ("range", query.range.clone()),
            ("about", about.to_owned()),
        ],
    );
    if let Some(last) = pager.past_end() {
        return Ok(Page::see_other(&last));
    }
    Page::ok(&ActivityPage {
        layout: Layout::new(&console, "activity", "Activity"),
        events: list.events.iter().map(event_line).collect(),
        pager,
        chart: chart(chart_since, &list.hours),
        about: about.to_owned(),
        status: query.status,
        resource: query.resource,
        range: query.range,
    })
}

/// One event's page.
#[derive(Template)]
#[template(path = "activity/detail.html")]
struct EventPage {
    layout: Layout,
    event: EventLine,
    method: String,
    path: String,
    payload: Option<String>,
}

/// GET /console/activity/{id}
pub async fn show_event(
    console: Console,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let id: i64 = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let event = service::event(&db, console.tenant.id, id).await?;
    Page::ok(&EventPage {
        layout: Layout::new(&console, "activity", format!("Event {}", event.id)),
        method: event.method.clone(),
        path: event.path.clone(),
        payload: event
            .payload
            .as_ref()
            .map(|p| serde_json::to_string_pretty(p).unwrap_or_default()),
        event: event_line(&event),
    })
}
