//! Audit log (owners and admins): every admin action of the tenant — who, when, from where, with
//! which browser, what — newest first, filtered by action, person and dates, fifty at a time,
//! and exported as CSV (streamed in chunks, so a year of entries holds one chunk in memory).

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, HttpResponseBuilder};
use askama::Template;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures_util::stream;
use serde::Deserialize;
use tenancy::audit::{self, AuditFilter, AuditRow};
use tenancy::stored::AuditAction;
use tenancy::{AuditId, Db, TenantId};

use super::activity::export::csv_field;
use crate::error::{ConsoleError, encode};
use crate::layout::{Layout, time_seconds};
use crate::page::Page;
use crate::session::Console;

/// Entries on one page.
pub const PAGE_SIZE: i64 = 50;
/// Entries read per chunk of the export.
const CHUNK: i64 = 1_000;

/// The filters, as in the address.
#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    after: String,
}

impl AuditQuery {
    /// The filter, or what in the address cannot be used, in words.
    fn filter(&self) -> Result<AuditFilter, ConsoleError> {
        let action = match self.action.as_str() {
            "" => None,
            text => Some(AuditAction::parse(text).ok_or_else(|| {
                ConsoleError::BadRequest("Choose an action from the list.".into())
            })?),
        };
        let day = |text: &str, what: &str| -> Result<Option<DateTime<Utc>>, ConsoleError> {
            if text.is_empty() {
                return Ok(None);
            }
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|date| date.and_hms_opt(0, 0, 0))
                .map(|start| Some(start.and_utc()))
                .ok_or_else(|| {
                    ConsoleError::BadRequest(format!(
                        "The {what} date must be written like 2026-12-03."
                    ))
                })
        };
        let after = match self.after.split_once('|') {
            None if self.after.is_empty() => None,
            Some((at, id)) => Some((
                DateTime::parse_from_rfc3339(at)
                    .map_err(|_| {
                        ConsoleError::BadRequest("The page address is incomplete.".into())
                    })?
                    .with_timezone(&Utc),
                id.parse::<AuditId>().map_err(|_| {
                    ConsoleError::BadRequest("The page address is incomplete.".into())
                })?,
            )),
            None => {
                return Err(ConsoleError::BadRequest(
                    "The page address is incomplete.".into(),
                ));
            }
        };
        Ok(AuditFilter {
            action,
            actor: Some(self.actor.trim().chars().take(200).collect::<String>())
                .filter(|a| !a.is_empty()),
            since: day(&self.from, "from")?,
            // Up to and including the `to` day.
            until: day(&self.to, "to")?.map(|day| day + Duration::days(1)),
            after,
        })
    }

    /// The address of the same filters (for the next page and the export).
    fn query_string(&self) -> String {
        let pairs = [
            ("action", &self.action),
            ("actor", &self.actor),
            ("from", &self.from),
            ("to", &self.to),
        ];
        pairs
            .iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| format!("{name}={}", encode(value)))
            .collect::<Vec<_>>()
            .join("&")
    }
}

/// One entry as listed.
struct Line {
    when: String,
    actor: String,
    action: &'static str,
    target: String,
    detail: String,
    from: String,
    agent: String,
}

/// What an entry's detail says, in one line (`key: value`, objects as JSON).
fn detail_words(row: &AuditRow) -> String {
    match &row.detail {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(key, value)| match value {
                serde_json::Value::String(text) => format!("{key}: {text}"),
                other => format!("{key}: {other}"),
            })
            .collect::<Vec<_>>()
            .join(" · "),
        other => other.to_string(),
    }
}

/// The page.
#[derive(Template)]
#[template(path = "audit/list.html")]
struct AuditPage {
    layout: Layout,
    lines: Vec<Line>,
    actions: Vec<(&'static str, &'static str)>,
    query: AuditQuery,
    filtered: String,
    next: Option<String>,
}

async fn read(
    db: &Db,
    tenant: TenantId,
    filter: AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            audit::list(conn, tenant, &filter, limit)
        })
        .await?)
}

/// GET /console/audit
pub async fn list_audit(
    console: Console,
    query: web::Query<AuditQuery>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let query = query.into_inner();
    let filter = query.filter()?;
    let mut rows = read(&db, console.tenant.id, filter, PAGE_SIZE + 1).await?;
    let more = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let filtered = query.query_string();
    let next = more.then(|| rows.last()).flatten().map(|last| {
        let cursor = encode(&format!("{}|{}", last.at.to_rfc3339(), last.id));
        if filtered.is_empty() {
            format!("?after={cursor}")
        } else {
            format!("?{filtered}&after={cursor}")
        }
    });
    let lines = rows
        .iter()
        .map(|row| Line {
            when: time_seconds(row.at),
            actor: row.actor.clone(),
            action: row.action.label(),
            target: row.target.clone().unwrap_or_default(),
            detail: detail_words(row),
            from: row.client_addr.clone().unwrap_or_default(),
            agent: row.user_agent.clone().unwrap_or_default(),
        })
        .collect();
    Page::ok(&AuditPage {
        layout: Layout::new(&console, "audit", "Audit log"),
        lines,
        actions: AuditAction::ALL
            .iter()
            .map(|action| (action.as_str(), action.label()))
            .collect(),
        query,
        filtered,
        next,
    })
}

const CSV_HEADER: &str = "time,actor,action,target,detail,client_address,user_agent\r\n";

fn write_rows(out: &mut String, rows: &[AuditRow]) {
    for row in rows {
        let fields = [
            row.at.to_rfc3339(),
            row.actor.clone(),
            row.action.as_str().to_owned(),
            row.target.clone().unwrap_or_default(),
            row.detail.to_string(),
            row.client_addr.clone().unwrap_or_default(),
            row.user_agent.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
}

/// GET /console/audit/export?… (the list's filters): CSV.
pub async fn export_audit(
    console: Console,
    query: web::Query<AuditQuery>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ConsoleError> {
    let mut filter = query.into_inner().filter()?;
    filter.after = None;
    let tenant = console.tenant.id;
    // The first chunk before the answer starts: an outage is a readable page, not a short file.
    let first = read(&db, tenant, filter.clone(), CHUNK).await?;
    let mut head = CSV_HEADER.to_owned();
    write_rows(&mut head, &first);
    let cursor = (first.len() as i64 == CHUNK)
        .then(|| first.last().map(|last| (last.at, last.id)))
        .flatten();
    let rest = stream::unfold(
        (db.into_inner(), filter, cursor),
        move |(db, mut filter, cursor)| async move {
            let after = cursor?;
            filter.after = Some(after);
            match read(&db, tenant, filter.clone(), CHUNK).await {
                Ok(rows) => {
                    let mut text = String::with_capacity(rows.len() * 200);
                    write_rows(&mut text, &rows);
                    let next = (rows.len() as i64 == CHUNK)
                        .then(|| rows.last().map(|last| (last.at, last.id)))
                        .flatten();
                    Some((Ok(Bytes::from(text)), (db, filter, next)))
                }
                Err(error) => {
                    tracing::warn!(?error, "the audit export stopped: the database failed");
                    Some((
                        Err(actix_web::error::ErrorServiceUnavailable(
                            "export interrupted",
                        )),
                        (db, filter, None),
                    ))
                }
            }
        },
    );
    let body = stream::iter([Ok::<_, actix_web::Error>(Bytes::from(head))]);
    let file = format!("insights-audit-{}.csv", Utc::now().format("%Y%m%d-%H%M%S"));
    Ok(HttpResponseBuilder::new(actix_web::http::StatusCode::OK)
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .streaming(futures_util::StreamExt::chain(body, rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_pages_are_understood_or_refused_in_words() {
        let query = AuditQuery {
            from: "2026-12-01".into(),
            to: "2026-12-02".into(),
            ..AuditQuery::default()
        };
        let filter = query.filter().ok().unwrap_or_default();
        assert_eq!(
            filter.until.map(|u| u.to_rfc3339()),
            Some("2026-12-03T00:00:00+00:00".into())
        );
        let bad = AuditQuery {
            from: "yesterday".into(),
            ..AuditQuery::default()
        };
        assert!(matches!(bad.filter(), Err(ConsoleError::BadRequest(_))));
        let bad = AuditQuery {
            after: "nonsense".into(),
            ..AuditQuery::default()
        };
        assert!(matches!(bad.filter(), Err(ConsoleError::BadRequest(_))));
        let bad = AuditQuery {
            action: "drop_table".into(),
            ..AuditQuery::default()
        };
        assert!(matches!(bad.filter(), Err(ConsoleError::BadRequest(_))));
    }
}
