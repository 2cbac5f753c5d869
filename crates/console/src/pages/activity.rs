//! Provisioning activity: every SCIM request the identity provider made, with filters, a chart
//! of requests and errors per hour over the last 7 days, and each event's redacted payload.

use actix_web::web;
use askama::Template;
use askama_web::WebTemplate;
use chrono::{DateTime, Duration, DurationRound as _, Utc};
use serde::Deserialize;
use tenancy::Db;
use tenancy::events::{self, EventFilter, EventRow};

use crate::error::{ConsoleError, encode};
use crate::layout::{Layout, time};
use crate::session::Console;

/// Events per page.
const PER_PAGE: i64 = 50;
/// Hours the chart covers: the last 7 days.
const CHART_HOURS: i64 = 7 * 24;

/// The list's filters.
#[derive(Debug, Default, Deserialize)]
pub struct ActivityQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    range: String,
    #[serde(default)]
    page: Option<i64>,
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
#[derive(Template, WebTemplate)]
#[template(path = "activity/list.html")]
pub struct ActivityPage {
    layout: Layout,
    status: String,
    resource: String,
    range: String,
    events: Vec<EventLine>,
    total: i64,
    page: i64,
    pages: i64,
    query_base: String,
    chart: Chart,
}

/// The hourly chart, drawn as SVG bars on the server.
pub struct Chart {
    /// (x, height of requests bar, height of errors bar, label)
    bars: Vec<(i64, i64, i64, String)>,
    max: i64,
    total_requests: i64,
    total_errors: i64,
    width: i64,
    height: i64,
}

/// GET /console/activity
pub async fn list_activity(
    console: Console,
    query: web::Query<ActivityQuery>,
    db: web::Data<Db>,
) -> Result<ActivityPage, ConsoleError> {
    let query = query.into_inner();
    let now = Utc::now();
    let filter = EventFilter {
        failed: match query.status.as_str() {
            "failed" => Some(true),
            "succeeded" => Some(false),
            _ => None,
        },
        resource_type: matches!(query.resource.as_str(), "User" | "Group")
            .then(|| query.resource.clone()),
        since: match query.range.as_str() {
            "24h" => Some(now - Duration::hours(24)),
            "7d" => Some(now - Duration::days(7)),
            "30d" => Some(now - Duration::days(30)),
            _ => None,
        },
        until: None,
    };
    let page = super::page_number(query.page);
    let tenant = console.tenant.id;
    // 168 hourly slots whose last one is the current hour (which holds the newest requests).
    let chart_since =
        now.duration_trunc(Duration::hours(1)).unwrap_or(now) - Duration::hours(CHART_HOURS - 1);
    let ((rows, total), hours) = db
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            Ok((
                events::list(conn, tenant, &filter, (page - 1) * PER_PAGE, PER_PAGE)?,
                events::hourly(conn, tenant, chart_since)?,
            ))
        })
        .await?;
    Ok(ActivityPage {
        layout: Layout::new(&console, "activity", "Activity"),
        events: rows.iter().map(event_line).collect(),
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        total,
        page,
        query_base: format!(
            "status={}&resource={}&range={}",
            encode(&query.status),
            encode(&query.resource),
            encode(&query.range)
        ),
        chart: chart(chart_since, &hours),
        status: query.status,
        resource: query.resource,
        range: query.range,
    })
}

/// 168 hourly slots; bar heights scaled to the busiest hour.
fn chart(since: DateTime<Utc>, hours: &[(DateTime<Utc>, i64, i64)]) -> Chart {
    const SLOTS: i64 = CHART_HOURS;
    const BAR: i64 = 4;
    const HEIGHT: i64 = 120;
    let mut requests = vec![0i64; SLOTS as usize];
    let mut errors = vec![0i64; SLOTS as usize];
    for (hour, count, failed) in hours {
        let slot = (*hour - since).num_hours();
        if let Ok(i) = usize::try_from(slot)
            && i < requests.len()
        {
            requests[i] += count;
            errors[i] += failed;
        }
    }
    let busiest = requests.iter().copied().max().unwrap_or(0);
    // Bars are scaled to the busiest hour; an empty week still divides by one.
    let max = busiest.max(1);
    let bars = (0..SLOTS)
        .map(|i| {
            let index = usize::try_from(i).unwrap_or(0);
            let label = format!(
                "{}: {} requests, {} errors",
                time(since + Duration::hours(i)),
                requests[index],
                errors[index]
            );
            (
                i * BAR,
                requests[index] * HEIGHT / max,
                errors[index] * HEIGHT / max,
                label,
            )
        })
        .collect();
    Chart {
        bars,
        max: busiest,
        total_requests: requests.iter().sum(),
        total_errors: errors.iter().sum(),
        width: SLOTS * BAR,
        height: HEIGHT,
    }
}

/// One event's page.
#[derive(Template, WebTemplate)]
#[template(path = "activity/detail.html")]
pub struct EventPage {
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
) -> Result<EventPage, ConsoleError> {
    let id: i64 = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let tenant = console.tenant.id;
    let event = db
        .run(tenant, move |conn| events::find(conn, tenant, id))
        .await?
        .ok_or(ConsoleError::NotFound)?;
    Ok(EventPage {
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
