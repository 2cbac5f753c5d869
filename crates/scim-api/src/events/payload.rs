//! The request body as the activity log keeps it: redacted by schema, abbreviated when large.

use std::sync::Arc;

use actix_web::HttpRequest;
use scim_protocol::redact;
use scim_protocol::schema::ResourceKind;
use serde_json::Value;

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
