//! Provisioning activity: every SCIM request the identity provider made, named, searchable and
//! filtered (status, resource, operation, time, or one chart bar's interval), a chart whose bars
//! follow the range, each event's request and answer with what to do about a failure, the
//! refused requests, and the export of the filtered log (see [`export`]).

mod chart;
pub mod export;
mod guidance;
mod lines;
pub mod service;

use actix_web::web;
use askama::Template;
use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use tenancy::Db;
use tenancy::events::{COUNT_LIMIT, EventFilter, ResourceName};
use tenancy::rejections::RejectedMinute;
use tenancy::stored::EventOperation;

use self::chart::{Chart, ChartRange, chart, interval};
pub use self::lines::EventLine;
use self::lines::{OPERATION_CHOICES, event_line};
use crate::error::{ConsoleError, encode};
use crate::layout::{Layout, time, time_seconds};
use crate::listing::{Pager, Paging};
use crate::page::Page;
use crate::session::Console;

/// The longest search the log takes (a userName is at most a few hundred characters).
const MAX_SEARCH: usize = 200;

/// The list's filters, kept in the URL.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ActivityQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    resource: String,
    #[serde(default)]
    operation: String,
    /// The search box.
    #[serde(default)]
    q: String,
    #[serde(default)]
    range: String,
    /// A chart bar's interval, in Unix seconds.
    #[serde(default)]
    from: Option<i64>,
    #[serde(default)]
    to: Option<i64>,
    /// Only requests about this resource (its SCIM id), as linked from a user's page.
    #[serde(default)]
    about: String,
    #[serde(default)]
    page: Option<i64>,
    #[serde(default)]
    per_page: Option<i64>,
    /// The export's format (`csv`, `jsonl`); the list ignores it.
    #[serde(default)]
    format: String,
}

/// The query understood: the filter, and what the page shows of it.
struct Understood {
    filter: EventFilter,
    search: Option<String>,
    rejected: bool,
    interval: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl ActivityQuery {
    fn understood(&self, now: DateTime<Utc>) -> Result<Understood, ConsoleError> {
        let q = self.q.trim();
        if q.chars().count() > MAX_SEARCH {
            return Err(ConsoleError::BadRequest(format!(
                "The search is too long: use at most {MAX_SEARCH} characters."
            )));
        }
        let about = self.about.trim();
        let interval = match (self.from, self.to) {
            (Some(from), Some(to)) => interval(from, to),
            _ => None,
        };
        let (since, until) = match interval {
            Some((from, to)) => (Some(from), Some(to)),
            None => (
                match self.range.as_str() {
                    "1h" => Some(now - Duration::hours(1)),
                    "24h" => Some(now - Duration::hours(24)),
                    "7d" => Some(now - Duration::days(7)),
                    "30d" => Some(now - Duration::days(30)),
                    _ => None,
                },
                None,
            ),
        };
        Ok(Understood {
            filter: EventFilter {
                failed: match self.status.as_str() {
                    "failed" => Some(true),
                    "succeeded" => Some(false),
                    _ => None,
                },
                resource_type: matches!(self.resource.as_str(), "User" | "Group")
                    .then(|| self.resource.clone()),
                resource_id: (!about.is_empty()).then(|| about.to_owned()),
                operation: EventOperation::parse(&self.operation),
                search: None,
                since,
                until,
            },
            search: (!q.is_empty()).then(|| q.to_owned()),
            rejected: self.operation == "rejected",
            interval,
        })
    }

    /// The filters as URL parameters, without the empty ones (and without the page).
    fn params(&self, with_interval: bool) -> Vec<(&'static str, String)> {
        let mut params: Vec<(&'static str, String)> = [
            ("q", self.q.trim().to_owned()),
            ("status", self.status.clone()),
            ("resource", self.resource.clone()),
            ("operation", self.operation.clone()),
            ("range", self.range.clone()),
            ("about", self.about.trim().to_owned()),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .collect();
        if with_interval && let (Some(from), Some(to)) = (self.from, self.to) {
            params.push(("from", from.to_string()));
            params.push(("to", to.to_string()));
        }
        params
    }

    /// A link to `path` with the filters (and the chart bar's interval, if `with_interval`).
    fn href(&self, path: &str, with_interval: bool, extra: &[(&str, String)]) -> String {
        let query: Vec<String> = self
            .params(with_interval)
            .iter()
            .map(|(name, value)| (*name, value.clone()))
            .chain(extra.iter().map(|(name, value)| (*name, value.clone())))
            .map(|(name, value)| format!("{name}={}", encode(&value)))
            .collect();
        if query.is_empty() {
            path.to_owned()
        } else {
            format!("{path}?{}", query.join("&"))
        }
    }

    fn filtered(&self) -> bool {
        !self.params(true).is_empty()
    }
}

/// A minute of refused requests as listed.
pub struct RejectedLine {
    at: String,
    reason: &'static str,
    requests: i32,
    last_at: String,
    address: String,
    user_agent: String,
}

fn rejected_line(row: &RejectedMinute) -> RejectedLine {
    RejectedLine {
        at: time(row.minute),
        reason: crate::pages::token_status::reason_words(row.reason),
        requests: row.requests,
        last_at: time_seconds(row.last_at),
        address: row.last_address.clone(),
        user_agent: row.last_user_agent.clone().unwrap_or_default(),
    }
}

/// A user's or group's Provisioning history: its newest requests, as the log lists them.
pub fn history_lines(events: &[tenancy::events::EventRow]) -> Vec<EventLine> {
    let now = Utc::now();
    let names = std::collections::HashMap::new();
    events
        .iter()
        .map(|event| event_line(event, &names, now))
        .collect()
}

/// The activity page.
#[derive(Template)]
#[template(path = "activity/list.html")]
struct ActivityPage {
    layout: Layout,
    query: ActivityQuery,
    operations: &'static [(&'static str, &'static str)],
    interval: Option<String>,
    without_interval: String,
    events: Vec<EventLine>,
    rejected: Option<Vec<RejectedLine>>,
    search_capped: bool,
    pager: Pager,
    chart: Chart,
    export_csv: String,
    export_jsonl: String,
    filtered: bool,
}

/// GET /console/activity
pub async fn list_activity(
    console: Console,
    query: web::Query<ActivityQuery>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let query = query.into_inner();
    let now = Utc::now();
    let understood = query.understood(now)?;
    let paging = Paging::asked(query.page, query.per_page);
    let range = ChartRange::of(&query.range, now);
    let list = service::list_activity(
        &db,
        console.tenant.id,
        service::ActivityRequest {
            filter: understood.filter,
            search: understood.search,
            rejected: understood.rejected,
            offset: paging.offset(),
            limit: paging.per_page,
            bucketing: range.bucketing,
            chart_since: range.since,
        },
    )
    .await?;
    let capped = list.total > COUNT_LIMIT;
    let pager = Pager::new(
        "/console/activity",
        paging,
        list.total,
        capped,
        query.params(true),
    );
    if let Some(last) = pager.past_end() {
        return Ok(Page::see_other(&last));
    }
    let chart = chart(&range, &list.buckets, |from, to| {
        query.href(
            "/console/activity",
            false,
            &[
                ("from", from.timestamp().to_string()),
                ("to", to.timestamp().to_string()),
            ],
        )
    });
    Page::ok(&ActivityPage {
        layout: Layout::new(&console, "activity", "Activity"),
        operations: OPERATION_CHOICES,
        interval: understood
            .interval
            .map(|(from, to)| format!("{} – {}", time(from), time(to))),
        without_interval: query.href("/console/activity", false, &[]),
        events: list
            .events
            .iter()
            .map(|event| {
                let mut line = event_line(event, &list.names, now);
                line.self_test = event
                    .token_id
                    .is_some_and(|token| list.self_test_tokens.contains(&token));
                line
            })
            .collect(),
        rejected: understood
            .rejected
            .then(|| list.rejected.iter().map(rejected_line).collect()),
        search_capped: list.search_capped,
        pager,
        chart,
        export_csv: query.href(
            "/console/activity/export",
            true,
            &[("format", "csv".into())],
        ),
        export_jsonl: query.href(
            "/console/activity/export",
            true,
            &[("format", "jsonl".into())],
        ),
        filtered: query.filtered(),
        query,
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
    response: Option<String>,
    what_to_do: Option<&'static str>,
    collided_with: Option<(String, String)>,
    history: Option<String>,
}

/// GET /console/activity/{id}
pub async fn show_event(
    console: Console,
    path: web::Path<String>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let id: i64 = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let detail = service::event(&db, console.tenant.id, id).await?;
    let event = &detail.event;
    let pretty = |json: &serde_json::Value| serde_json::to_string_pretty(json).unwrap_or_default();
    Page::ok(&EventPage {
        layout: Layout::new(&console, "activity", format!("Event {}", event.id)),
        method: event.method.clone(),
        path: guidance::decoded_path(&event.path),
        payload: event.payload.as_ref().map(pretty),
        response: event.response.as_ref().map(pretty),
        what_to_do: guidance::what_to_do(event),
        collided_with: detail.collided_with.as_ref().map(|found| match found {
            ResourceName::User {
                id,
                name,
                user_name,
            } => (
                format!("/console/users/{id}"),
                format!("{name} ({user_name})"),
            ),
            ResourceName::Group { id, name } => (format!("/console/groups/{id}"), name.clone()),
        }),
        history: event
            .resource_id
            .as_ref()
            .filter(|_| matches!(event.resource_type.as_deref(), Some("User" | "Group")))
            .map(|id| format!("/console/activity?about={}", encode(id))),
        event: event_line(event, &detail.names, Utc::now()),
    })
}
