//! The provisioning activity log. Every authenticated SCIM request becomes one
//! `provisioning_events` row: method, path, status, resource, token, duration, the error in
//! plain words, and the payload with secrets removed.
//!
//! A successful write records its event in the same transaction as the write, so no event of a
//! successful write can be lost. Everything else (reads, failures) is handed to [`EventSink`],
//! which batches rows into one INSERT every few milliseconds, off the request's path.

use std::future::{Ready, ready};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{HttpMessage as _, HttpRequest};
use chrono::{DateTime, Utc};

use scim_protocol::redact;
use scim_protocol::schema::ResourceKind;
use serde_json::Value;
use tenancy::events::{self, NewEvent};
use tenancy::{CrossTenant, Db};
use tokio::sync::mpsc;

use crate::auth::ScimAuth;
use crate::error::ScimError;

/// Events waiting for the writer before new ones are dropped (reads only; writes never queue).
const QUEUE_CAPACITY: usize = 16_384;
/// Rows per INSERT at most.
const BATCH_SIZE: usize = 512;
/// How long a batch is retried while the database is unavailable, and how often.
pub const RETRY_FOR: Duration = Duration::from_secs(60);
const RETRY_EVERY: Duration = Duration::from_millis(500);

/// Bodies larger than this are kept in the log abbreviated: long arrays (a push of thousands
/// of members) keep their first [`ABBREVIATED_ITEMS`] elements and a count of the rest.
pub const MAX_LOGGED_BODY: usize = 64 * 1024;
const ABBREVIATED_ITEMS: usize = 20;

/// The request body as the activity log keeps it, left in the request by the body extractor:
/// redacted by schema (`scim_protocol::redact`), abbreviated when large, with the secret values
/// that were taken out so that nothing else about the request can carry them into the log.
#[derive(Debug, Clone)]
pub struct RequestPayload {
    /// The body with its secrets replaced.
    pub value: Arc<Value>,
    /// The secret texts that were removed.
    pub secrets: Arc<[String]>,
    /// A secret was named in a part that could not be parsed: text echoing the request
    /// (an error detail) is not kept.
    pub opaque: bool,
}

impl RequestPayload {
    /// The loggable form of `body` (of `size` bytes) received by `req`: what it is (a resource,
    /// a PATCH, a search) follows from the method and path.
    pub fn of(req: &HttpRequest, body: &Value, size: usize) -> Self {
        let kind = kind_of_path(req.path());
        // A large body is cut down before it is redacted, so that no second full copy of it
        // is made.
        let abbreviated;
        let body = if size > MAX_LOGGED_BODY {
            abbreviated = abbreviate(body);
            &abbreviated
        } else {
            body
        };
        let redaction = match kind {
            Some(kind) if req.path().ends_with("/.search") => redact::redact_search(kind, body),
            Some(kind) if req.method() == actix_web::http::Method::PATCH => {
                redact::redact_patch(kind, body)
            }
            Some(kind) => redact::redact_resource(kind, body),
            None => redact::redact_resource(ResourceKind::User, body),
        };
        Self {
            value: Arc::new(redaction.value),
            secrets: redaction.secrets.into(),
            opaque: redaction.opaque,
        }
    }
}

/// The resource type a request path (`/scim/v2/{tenant}/Users/…`) is about.
fn kind_of_path(path: &str) -> Option<ResourceKind> {
    let mut segments = path.trim_start_matches('/').split('/').skip(3);
    match segments.next() {
        Some("Users") => Some(ResourceKind::User),
        Some("Groups") => Some(ResourceKind::Group),
        _ => None,
    }
}

/// A copy of `value` with every array longer than [`ABBREVIATED_ITEMS`] cut to that many
/// elements and a note of how many more there were, and very long texts cut short. Only what is
/// kept is copied.
fn abbreviate(value: &Value) -> Value {
    match value {
        Value::Array(items) if items.len() > ABBREVIATED_ITEMS => {
            let more = items.len() - ABBREVIATED_ITEMS;
            let mut kept: Vec<Value> = items
                .iter()
                .take(ABBREVIATED_ITEMS)
                .map(abbreviate)
                .collect();
            kept.push(Value::String(format!(
                "[… {more} more, not kept in the activity log]"
            )));
            Value::Array(kept)
        }
        Value::Array(items) => Value::Array(items.iter().map(abbreviate).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(key, value)| (key.clone(), abbreviate(value)))
                .collect(),
        ),
        Value::String(text) if text.len() > MAX_LOGGED_BODY / 4 => {
            let cut: String = text.chars().take(256).collect();
            Value::String(format!("{cut}[… {} bytes, not kept]", text.len()))
        }
        other => other.clone(),
    }
}

/// Set on a request whose event was written with its data.
#[derive(Debug, Clone, Copy)]
pub struct EventRecorded;

/// The resource a request was about, when the handler knows better than the path (a create).
#[derive(Debug, Clone)]
pub struct EventResource(pub String);

/// What is known about an authenticated request from its start.
#[derive(Debug, Clone)]
pub struct Activity {
    auth: ScimAuth,
    started: Instant,
    occurred_at: DateTime<Utc>,
    method: String,
    path: String,
    /// Secret values the query string carried (a filter on `password`), scrubbed from the
    /// event's texts.
    secrets: Arc<[String]>,
}

impl Activity {
    /// Starts the record of a request that was just authenticated.
    pub fn begin(
        req: &HttpRequest,
        auth: ScimAuth,
        started: Instant,
        occurred_at: DateTime<Utc>,
    ) -> Self {
        let prefix = format!("/scim/v2/{}", auth.tenant);
        let full = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
        let path = full
            .strip_prefix(&prefix)
            .map(str::to_owned)
            .unwrap_or(full);
        let (path, secrets) = redact_query(&path);
        Self {
            auth,
            started,
            occurred_at,
            method: req.method().to_string(),
            path: truncate(&path, 2000),
            secrets: secrets.into(),
        }
    }

    /// The event for this request with the given outcome. Every text is scrubbed of the
    /// secrets found in the request; an error about a request whose secrets could not be told
    /// apart is not kept in its own words.
    pub fn event(
        &self,
        status: u16,
        resource_id: Option<String>,
        payload: Option<&RequestPayload>,
        error: Option<String>,
    ) -> NewEvent {
        let mut secrets: Vec<String> = self.secrets.to_vec();
        if let Some(payload) = payload {
            secrets.extend(payload.secrets.iter().cloned());
        }
        let opaque = payload.is_some_and(|p| p.opaque);
        let error = error.map(|text| {
            if opaque {
                "The request was refused (its details are not kept: it names a write-only attribute such as the password).".to_owned()
            } else {
                redact::scrub(&text, &secrets)
            }
        });
        let path = redact::scrub(&self.path, &secrets);
        let (resource_type, path_id) = resource_of(&path);
        NewEvent {
            tenant_id: self.auth.tenant,
            occurred_at: self.occurred_at,
            method: self.method.clone(),
            path,
            status: i16::try_from(status).unwrap_or(i16::MAX),
            resource_type,
            resource_id: resource_id.or(path_id),
            token_id: Some(self.auth.token),
            duration_us: i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX),
            error,
            payload: payload.map(|p| (*p.value).clone()),
        }
        .storable()
    }
}

/// A path with query whose `filter` parameter has the values it compares against secret
/// attributes replaced, and those values.
fn redact_query(path: &str) -> (String, Vec<String>) {
    let Some((base, query)) = path.split_once('?') else {
        return (path.to_owned(), Vec::new());
    };
    let Ok(pairs) = serde_urlencoded::from_str::<Vec<(String, String)>>(query) else {
        return (path.to_owned(), Vec::new());
    };
    let kind = match base.trim_start_matches('/').split('/').next() {
        Some("Groups") => ResourceKind::Group,
        _ => ResourceKind::User,
    };
    let mut secrets = Vec::new();
    let mut changed = false;
    let pairs: Vec<(String, String)> = pairs
        .into_iter()
        .map(|(key, value)| {
            if !key.eq_ignore_ascii_case("filter") {
                return (key, value);
            }
            let redaction = redact::redact_filter(kind, &value);
            if redaction.opaque || !redaction.secrets.is_empty() {
                changed = true;
                secrets.extend(redaction.secrets);
                let text = redaction
                    .value
                    .as_str()
                    .unwrap_or(redact::REDACTED)
                    .to_owned();
                return (key, text);
            }
            (key, value)
        })
        .collect();
    if !changed {
        return (path.to_owned(), secrets);
    }
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    (format!("{base}?{query}"), secrets)
}

/// The resource type and id named by a path below the tenant base (`/Users/abc?x` -> User, abc).
fn resource_of(path: &str) -> (Option<String>, Option<String>) {
    let path = path.split('?').next().unwrap_or_default();
    let mut segments = path.trim_start_matches('/').split('/');
    let kind = match segments.next().unwrap_or_default() {
        "Users" => "User",
        "Groups" => "Group",
        "ServiceProviderConfig" => "ServiceProviderConfig",
        "ResourceTypes" => "ResourceType",
        "Schemas" => "Schema",
        "" => return (None, None),
        other => return (Some(truncate(other, 64)), None),
    };
    // `/Users/.search` names an action, not a resource.
    let id = segments
        .next()
        .filter(|s| !s.is_empty() && !s.starts_with('.'))
        .map(|s| truncate(s, 200));
    (Some(kind.to_owned()), id)
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => text[..at].to_owned(),
        None => text.to_owned(),
    }
}

/// The background writer of events that are not written with their data.
#[derive(Clone)]
pub struct EventSink {
    sender: mpsc::Sender<NewEvent>,
    dropped: Arc<AtomicU64>,
}

impl EventSink {
    /// Starts the writer on the current tokio runtime. It stops, after writing what is queued,
    /// when every sink handle has been dropped.
    pub fn start(db: Db) -> (Self, tokio::task::JoinHandle<()>) {
        let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
        let dropped = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(write_events(db, receiver, dropped.clone()));
        (Self { sender, dropped }, task)
    }

    /// Queues an event; if the queue is full the event is dropped with a warning.
    pub fn record(&self, event: NewEvent) {
        if self.sender.try_send(event).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                "provisioning event queue is full; an event of a read or failed request was dropped"
            );
        }
    }

    /// Events given up since start: the queue was full, the database refused an event even
    /// after it was made storable, or stayed away for longer than [`RETRY_FOR`].
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

async fn write_events(db: Db, mut receiver: mpsc::Receiver<NewEvent>, dropped: Arc<AtomicU64>) {
    let mut batch = Vec::with_capacity(BATCH_SIZE);
    while receiver.recv_many(&mut batch, BATCH_SIZE).await > 0 {
        // Let a burst gather for a moment: one INSERT of many rows costs about as much as one.
        if batch.len() < BATCH_SIZE {
            tokio::time::sleep(Duration::from_millis(5)).await;
            while batch.len() < BATCH_SIZE {
                match receiver.try_recv() {
                    Ok(event) => batch.push(event),
                    Err(_) => break,
                }
            }
        }
        let lost = write_batch(&db, std::mem::take(&mut batch)).await;
        dropped.fetch_add(lost, Ordering::Relaxed);
    }
}

/// Writes one batch and returns how many of its events were given up. While the database is
/// unavailable the batch is retried (new events queue meanwhile); a batch it refuses is written
/// event by event, so that an event it cannot store is the only one lost.
async fn write_batch(db: &Db, rows: Vec<NewEvent>) -> u64 {
    let count = rows.len();
    let rows = Arc::new(rows);
    let started = Instant::now();
    loop {
        let batch = rows.clone();
        match db
            .run_across_tenants(CrossTenant::ActivityLog, move |conn| {
                events::insert_many(conn, &batch)
            })
            .await
        {
            Ok(_) => return 0,
            Err(tenancy::Error::Unavailable) if started.elapsed() < RETRY_FOR => {
                tokio::time::sleep(RETRY_EVERY).await;
            }
            Err(tenancy::Error::Unavailable) => {
                tracing::error!(
                    count,
                    "the database stayed unavailable; provisioning events were dropped"
                );
                return u64::try_from(count).unwrap_or(u64::MAX);
            }
            Err(error) => {
                tracing::warn!(error = ?error, count, "a batch of provisioning events was refused; writing them one by one");
                break;
            }
        }
    }
    let rows = Arc::try_unwrap(rows).unwrap_or_else(|shared| (*shared).clone());
    let mut lost = 0;
    for event in rows {
        let path = event.path.clone();
        let result = db
            .run_across_tenants(CrossTenant::ActivityLog, move |conn| {
                events::insert_many(conn, std::slice::from_ref(&event))
            })
            .await;
        if let Err(error) = result {
            lost += 1;
            tracing::error!(error = ?error, %path, "a provisioning event could not be stored and was dropped");
        }
    }
    lost
}

/// Middleware that records every authenticated request not already recorded with its data.
#[derive(Clone)]
pub struct RecordActivity {
    sink: EventSink,
}

impl RecordActivity {
    /// Records through `sink`.
    pub fn new(sink: EventSink) -> Self {
        Self { sink }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RecordActivity
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Transform = RecordActivityService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RecordActivityService {
            service,
            sink: self.sink.clone(),
        }))
    }
}

/// See [`RecordActivity`].
pub struct RecordActivityService<S> {
    service: S,
    sink: EventSink,
}

impl<S, B> Service<ServiceRequest> for RecordActivityService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = actix_web::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self::Response, Self::Error>>>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let sink = self.sink.clone();
        let future = self.service.call(req);
        Box::pin(async move {
            let response = future.await?;
            let extensions = response.request().extensions();
            if extensions.get::<EventRecorded>().is_none()
                && let Some(activity) = extensions.get::<Activity>()
            {
                let status = response.status().as_u16();
                let error = response.response().error().map(|e| {
                    e.as_error::<ScimError>()
                        .map_or_else(|| e.to_string(), |s| s.detail.clone())
                });
                let payload = extensions.get::<RequestPayload>();
                let resource = extensions.get::<EventResource>().map(|r| r.0.clone());
                sink.record(activity.event(status, resource, payload, error));
            }
            drop(extensions);
            Ok(response)
        })
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn resource_is_read_from_the_path() {
        assert_eq!(
            resource_of("/Users/abc?x=1"),
            (Some("User".into()), Some("abc".into()))
        );
        assert_eq!(
            resource_of("/Groups?filter=x"),
            (Some("Group".into()), None)
        );
        assert_eq!(resource_of("/Users/.search"), (Some("User".into()), None));
        assert_eq!(
            resource_of("/ServiceProviderConfig"),
            (Some("ServiceProviderConfig".into()), None)
        );
    }
}
