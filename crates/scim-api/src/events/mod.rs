//! The provisioning activity log. Every authenticated SCIM request becomes one
//! `provisioning_events` row: method, path, status, resource, token, duration, the error in
//! plain words, and the payload with secrets removed.
//!
//! A successful write records its event in the same transaction as the write, so no event of a
//! successful write can be lost. Everything else (reads, failures) is handed to [`EventSink`],
//! which batches rows into one INSERT every few milliseconds, off the request's path.

mod classify;
mod payload;
mod rejections;
mod sink;

use std::future::{Ready, ready};
use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{HttpMessage as _, HttpRequest};
use chrono::{DateTime, Utc};
use scim_protocol::redact;
use scim_protocol::schema::ResourceKind;
use tenancy::events::NewEvent;

pub use self::payload::{MAX_LOGGED_BODY, RequestPayload};
pub use self::rejections::RejectionLog;
pub use self::sink::{EventSink, RETRY_FOR};
use crate::auth::ScimAuth;
use crate::error::ScimError;

/// Set on a request whose event was written with its data.
#[derive(Debug, Clone, Copy)]
pub struct EventRecorded;

/// The resource a request was about, when the handler knows better than the path (a create).
#[derive(Debug, Clone)]
pub struct EventResource(pub String);

/// What a failed request was answered: the error's words and its `scimType`.
#[derive(Debug, Clone)]
pub struct Failure {
    /// The error in plain words (the body's `detail`).
    pub detail: String,
    /// RFC 7644 `scimType`, where one applies.
    pub scim_type: Option<&'static str>,
}

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
        failure: Option<Failure>,
    ) -> NewEvent {
        let mut secrets: Vec<String> = self.secrets.to_vec();
        if let Some(payload) = payload {
            secrets.extend(payload.secrets.iter().cloned());
        }
        let opaque = payload.is_some_and(|p| p.opaque);
        let scim_type = failure.as_ref().and_then(|f| f.scim_type);
        let error = failure.map(|Failure { detail: text, .. }| {
            if opaque {
                "The request was refused (its details are not kept: it names a write-only attribute such as the password).".to_owned()
            } else {
                redact::scrub(&text, &secrets)
            }
        });
        let path = redact::scrub(&self.path, &secrets);
        let (resource_type, path_id) = resource_of(&path);
        let body = payload.map(|p| &*p.value);
        let operation = classify::operation(&self.method, resource_type.as_deref(), &path, body);
        let subject = classify::subject(resource_type.as_deref(), &path, body);
        // The body the identity provider received, rebuilt from the same scrubbed words.
        let response = error
            .as_ref()
            .map(|detail| crate::error::error_body(status, scim_type, detail));
        NewEvent {
            tenant_id: self.auth.directory,
            occurred_at: self.occurred_at,
            method: self.method.clone(),
            path,
            status: i16::try_from(status).unwrap_or(i16::MAX),
            resource_type,
            resource_id: resource_id.or(path_id),
            token_id: Some(self.auth.token),
            duration_us: i64::try_from(self.started.elapsed().as_micros()).unwrap_or(i64::MAX),
            error,
            payload: body.cloned(),
            operation,
            subject,
            response,
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
                    e.as_error::<ScimError>().map_or_else(
                        || Failure {
                            detail: e.to_string(),
                            scim_type: None,
                        },
                        |s| Failure {
                            detail: s.detail.clone(),
                            scim_type: s.scim_type,
                        },
                    )
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
