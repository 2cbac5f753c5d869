//! The HTTP side of the harness: a SCIM client for one Tenant URL and `Authorization` header,
//! fully read responses with assertions for SCIM errors, and small helpers for bodies and
//! query strings.

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use crate::helpers::{ERROR_SCHEMA, PATCH_OP, SCIM_JSON};

/// A PatchOp body with these operations.
pub fn patch_body(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// Percent-encodes a query parameter value (RFC 3986 unreserved characters stay).
pub fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// `?filter=<encoded filter>`.
pub fn filter_query(filter: &str) -> String {
    format!("filter={}", encode(filter))
}

/// A SCIM client for one tenant URL with one `Authorization` header value.
#[derive(Clone)]
pub struct Scim {
    http: reqwest::Client,
    base: String,
    authorization: Option<String>,
}

impl Scim {
    /// A client for `{address}/scim/v2/{tenant}` sending this `Authorization` header, if any.
    pub fn new(address: &str, tenant: &str, authorization: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("HTTP client"),
            base: format!("{address}/scim/v2/{tenant}"),
            authorization: authorization.map(str::to_owned),
        }
    }

    /// The Tenant URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GET a path below the Tenant URL.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Method::GET, path, None, &[]).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: &Value) -> TestResponse {
        self.send(Method::POST, path, Some(body.to_string()), &[])
            .await
    }

    /// PUT JSON.
    pub async fn put(&self, path: &str, body: &Value) -> TestResponse {
        self.send(Method::PUT, path, Some(body.to_string()), &[])
            .await
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, body: &Value) -> TestResponse {
        self.send(Method::PATCH, path, Some(body.to_string()), &[])
            .await
    }

    /// PATCH with a PatchOp body of these operations.
    pub async fn patch_ops(&self, path: &str, operations: Value) -> TestResponse {
        self.patch(path, &patch_body(operations)).await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str) -> TestResponse {
        self.send(Method::DELETE, path, None, &[]).await
    }

    /// Any request, with a raw body and extra headers.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method.clone(), &url)
            .header("Accept", SCIM_JSON);
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        if let Some(body) = body {
            request = request.header("Content-Type", SCIM_JSON).body(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {url} failed: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("response body");
        let json = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        TestResponse {
            request: format!("{method} {path}"),
            status,
            headers,
            text,
            json,
        }
    }
}

/// A response read in full.
#[derive(Debug)]
pub struct TestResponse {
    /// `METHOD path`, for failure messages.
    pub request: String,
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub text: String,
    /// The body as JSON (`Null` when empty or not JSON).
    pub json: Value,
}

impl TestResponse {
    /// Fails the test unless the status is `expected`, showing the body.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status, expected,
            "{} answered {} with body {}",
            self.request, self.status, self.text
        );
        self
    }

    /// Fails the test unless this is a SCIM error of this status and scimType (`None`: no
    /// scimType), with the SCIM media type; returns the detail.
    #[track_caller]
    pub fn assert_scim_error(&self, status: u16, scim_type: Option<&str>) -> String {
        self.assert_status(status);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some(SCIM_JSON),
            "{}: error content type",
            self.request
        );
        assert_eq!(
            self.json["schemas"],
            json!([ERROR_SCHEMA]),
            "{}: {}",
            self.request,
            self.text
        );
        assert_eq!(
            self.json["status"],
            json!(status.to_string()),
            "{}: {}",
            self.request,
            self.text
        );
        assert_eq!(
            self.json.get("scimType").and_then(Value::as_str),
            scim_type,
            "{}: {}",
            self.request,
            self.text
        );
        let detail = self.json["detail"].as_str().unwrap_or_default().to_owned();
        assert!(!detail.is_empty(), "{}: empty detail", self.request);
        assert!(
            !detail.contains("diesel") && !detail.contains("SQL") && !detail.contains("panick"),
            "{}: detail leaks internals: {detail}",
            self.request
        );
        detail
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The `id` of the returned resource.
    #[track_caller]
    pub fn id(&self) -> String {
        self.json["id"]
            .as_str()
            .unwrap_or_else(|| panic!("{}: no id in {}", self.request, self.text))
            .to_owned()
    }

    /// `Resources` of a list response.
    #[track_caller]
    pub fn resources(&self) -> Vec<Value> {
        self.json["Resources"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("{}: no Resources in {}", self.request, self.text))
    }

    /// `totalResults` of a list response.
    #[track_caller]
    pub fn total(&self) -> u64 {
        self.json["totalResults"]
            .as_u64()
            .unwrap_or_else(|| panic!("{}: no totalResults in {}", self.request, self.text))
    }

    /// A string at a JSON pointer.
    #[track_caller]
    pub fn str_at(&self, pointer: &str) -> String {
        self.json
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("{}: no string at {pointer} in {}", self.request, self.text))
            .to_owned()
    }
}

/// The values of one key across list resources (e.g. every `userName`).
pub fn values_of(resources: &[Value], key: &str) -> Vec<String> {
    resources
        .iter()
        .map(|r| r[key].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// A resource with `id` and `meta` replaced by placeholders, for whole-body comparisons.
pub fn redacted(resource: &Value) -> Value {
    let mut copy = resource.clone();
    if let Some(map) = copy.as_object_mut() {
        if map.contains_key("id") {
            map.insert("id".into(), json!("[id]"));
        }
        if map.contains_key("meta") {
            map.insert("meta".into(), json!("[meta]"));
        }
        for key in ["members", "groups"] {
            if let Some(Value::Array(items)) = map.get_mut(key) {
                for item in items {
                    if let Some(item) = item.as_object_mut() {
                        item.insert("value".into(), json!("[id]"));
                        item.insert("$ref".into(), json!("[ref]"));
                    }
                }
            }
        }
    }
    copy
}
