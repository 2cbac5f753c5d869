//! The export of the filtered activity log as CSV or JSON lines, streamed: the events are read
//! in chunks of [`CHUNK`] and each chunk is written out before the next is read, so that an
//! export of millions of events holds one chunk in memory. A selective filter (up to
//! [`service::EXPORT_BY_KEYS`] matches) is exported by the matching keys, read once through its
//! own indexes; a broad one walks the time index after the last key sent (no growing offset). The first chunk is read before the answer starts, so that a database outage is a
//! readable error page rather than a cut-off file.

use std::collections::HashMap;

use actix_web::http::header;
use actix_web::web::{self, Bytes};
use actix_web::{HttpResponse, HttpResponseBuilder};
use chrono::Utc;
use futures_util::stream;
use serde_json::json;
use tenancy::Db;
use tenancy::events::{EventRow, ResourceName};

use super::lines::operation_words;
use super::{ActivityQuery, service};
use crate::error::ConsoleError;
use crate::session::Console;

/// Events read per chunk.
pub const CHUNK: i64 = 1_000;
/// The first chunk is smaller, so that the first byte leaves soon.
const FIRST_CHUNK: i64 = 200;

/// The export's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    JsonLines,
}

impl Format {
    fn of(text: &str) -> Option<Self> {
        match text {
            "csv" | "" => Some(Self::Csv),
            "jsonl" => Some(Self::JsonLines),
            _ => None,
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::JsonLines => "application/x-ndjson; charset=utf-8",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::JsonLines => "jsonl",
        }
    }
}

const CSV_HEADER: &str = "time,event,operation,method,path,status,resource_type,resource_id,name,user_name,subject,duration_ms,error\r\n";

/// GET /console/activity/export?format=csv|jsonl&… (the list's filters)
pub async fn export_activity(
    console: Console,
    query: web::Query<ActivityQuery>,
    db: web::Data<Db>,
) -> Result<HttpResponse, ConsoleError> {
    let query = query.into_inner();
    let format = Format::of(&query.format).ok_or_else(|| {
        ConsoleError::BadRequest("The export is available as CSV or as JSON lines.".into())
    })?;
    let now = Utc::now();
    let understood = query.understood(now)?;
    let tenant = console.tenant.id;
    let (filter, cursor) =
        service::export_start(&db, tenant, understood.filter, understood.search).await?;
    let (first, names, cursor) =
        service::export_chunk(&db, tenant, filter.clone(), cursor, FIRST_CHUNK).await?;
    let mut head = match format {
        Format::Csv => CSV_HEADER.to_owned(),
        Format::JsonLines => String::new(),
    };
    write_chunk(&mut head, format, &first, &names);
    let rest = stream::unfold(
        (db.into_inner(), filter, cursor),
        move |(db, filter, cursor)| async move {
            if matches!(cursor, service::ExportCursor::Done) {
                return None;
            }
            match service::export_chunk(&db, tenant, filter.clone(), cursor, CHUNK).await {
                Ok((events, names, next)) => {
                    let mut text = String::with_capacity(events.len() * 200);
                    write_chunk(&mut text, format, &events, &names);
                    Some((Ok(Bytes::from(text)), (db, filter, next)))
                }
                Err(error) => {
                    // The answer has started: the download ends short, and the browser says so.
                    tracing::warn!(?error, "the activity export stopped: the database failed");
                    Some((
                        Err(actix_web::error::ErrorServiceUnavailable(
                            "export interrupted",
                        )),
                        (db, filter, service::ExportCursor::Done),
                    ))
                }
            }
        },
    );
    let body = stream::iter([Ok::<_, actix_web::Error>(Bytes::from(head))]);
    let file = format!(
        "insights-activity-{}.{}",
        now.format("%Y%m%d-%H%M%S"),
        format.extension()
    );
    Ok(HttpResponseBuilder::new(actix_web::http::StatusCode::OK)
        .content_type(format.content_type())
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{file}\""),
        ))
        .streaming(futures_util::StreamExt::chain(body, rest)))
}

fn write_chunk(
    out: &mut String,
    format: Format,
    events: &[EventRow],
    names: &HashMap<String, ResourceName>,
) {
    for event in events {
        let (name, user_name) = match event.resource_id.as_ref().and_then(|id| names.get(id)) {
            Some(ResourceName::User {
                name, user_name, ..
            }) => (name.as_str(), user_name.as_str()),
            Some(ResourceName::Group { name, .. }) => (name.as_str(), ""),
            None => ("", ""),
        };
        match format {
            Format::Csv => {
                let fields = [
                    event.occurred_at.to_rfc3339(),
                    event.id.to_string(),
                    operation_words(event),
                    event.method.clone(),
                    event.path.clone(),
                    event.status.to_string(),
                    event.resource_type.clone().unwrap_or_default(),
                    event.resource_id.clone().unwrap_or_default(),
                    name.to_owned(),
                    user_name.to_owned(),
                    event.subject.clone().unwrap_or_default(),
                    format!("{:.3}", event.duration_us as f64 / 1000.0),
                    event.error.clone().unwrap_or_default(),
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.push_str(&line.join(","));
                out.push_str("\r\n");
            }
            Format::JsonLines => {
                let line = json!({
                    "time": event.occurred_at.to_rfc3339(),
                    "event": event.id,
                    "operation": event.operation,
                    "method": event.method,
                    "path": event.path,
                    "status": event.status,
                    "resourceType": event.resource_type,
                    "resourceId": event.resource_id,
                    "name": (!name.is_empty()).then_some(name),
                    "userName": (!user_name.is_empty()).then_some(user_name),
                    "subject": event.subject,
                    "durationUs": event.duration_us,
                    "error": event.error,
                    "request": event.payload,
                    "response": event.response,
                });
                out.push_str(&line.to_string());
                out.push('\n');
            }
        }
    }
}

/// A CSV field (RFC 4180 quoting). A text a spreadsheet would run as a formula (starting with
/// `=`, `+`, `-`, `@`, tab or carriage return) gets a leading `'`, as OWASP advises for CSV
/// export: a userName is chosen by whoever controls the identity provider's data.
pub(crate) fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formulas_are_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
        assert_eq!(csv_field("line\nbreak"), "\"line\nbreak\"");
    }
}
