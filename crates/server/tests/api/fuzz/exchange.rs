//! Sending one generated request and checking its answer: no 5xx, RFC 7644 error bodies, the headers 429, 503 and 401 need, nothing echoed or unescaped.

use super::*;

/// What a generated request exercises (for the tally and the coverage check).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Kind {
    Filter,
    Search,
    Patch,
    Resource,
    OddPath,
    Console,
    SignIn,
    Secret,
}

/// Who sends a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sender {
    /// The SCIM client, with `Probe::auth`.
    Scim,
    /// The fuzzed tenant's console admin.
    Console,
    /// The second tenant's console admin.
    Settings,
    /// A new browser that loads the sign-in page (the target) and posts its form.
    SignIn,
}

/// The `Authorization` header of a SCIM request.
#[derive(Debug, Clone)]
pub(crate) enum Auth {
    /// `Bearer <the tenant's token>`.
    Token,
    /// None.
    Missing,
    /// The token with this before and after it.
    AroundToken(String, String),
    /// These bytes, no token.
    Raw(Vec<u8>),
}

/// The CSRF field of a console form.
#[derive(Debug, Clone)]
pub(crate) enum Csrf {
    /// The session's (or the sign-in page's) token.
    Session,
    /// A wrong one.
    Junk(String),
    /// None.
    Omitted,
}

/// One generated HTTP request, described in full so that a failure can be replayed.
#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub(crate) kind: Kind,
    pub(crate) sender: Sender,
    pub(crate) method: Method,
    /// Path and query, as sent.
    pub(crate) target: String,
    pub(crate) auth: Auth,
    pub(crate) content_type: Option<String>,
    pub(crate) body: Option<Vec<u8>>,
    /// Prepended to a form body when the request is sent.
    pub(crate) csrf: Option<Csrf>,
}

impl Probe {
    /// A SCIM request with the tenant's token and no body.
    pub(crate) fn scim(kind: Kind, method: Method, target: String) -> Self {
        Self {
            kind,
            sender: Sender::Scim,
            method,
            target,
            auth: Auth::Token,
            content_type: None,
            body: None,
            csrf: None,
        }
    }

    /// A console GET of the fuzzed tenant's admin.
    pub(crate) fn console(target: String) -> Self {
        Self {
            sender: Sender::Console,
            ..Self::scim(Kind::Console, Method::GET, target)
        }
    }

    /// A console form post.
    pub(crate) fn form(
        kind: Kind,
        sender: Sender,
        target: String,
        fields: &[(&str, Vec<u8>)],
    ) -> Self {
        Self {
            sender,
            body: Some(form_body(fields).into_bytes()),
            content_type: Some("application/x-www-form-urlencoded".into()),
            csrf: Some(Csrf::Session),
            ..Self::scim(kind, Method::POST, target)
        }
    }

    /// With this body and content type.
    pub(crate) fn with_body(mut self, content_type: Option<String>, body: Vec<u8>) -> Self {
        self.content_type = content_type;
        self.body = Some(body);
        self
    }
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} {} {:?}",
            self.sender,
            self.method,
            clip(&self.target, 600)
        )?;
        if self.sender == Sender::SignIn {
            write!(f, " then POST /console/login")?;
        }
        if self.sender == Sender::Scim {
            match &self.auth {
                Auth::Token => write!(f, " [Authorization: Bearer <token>]")?,
                Auth::Missing => write!(f, " [no Authorization]")?,
                Auth::AroundToken(before, after) => {
                    write!(f, " [Authorization: {before:?} <token> {after:?}]")?;
                }
                Auth::Raw(raw) => {
                    write!(f, " [Authorization: {:?}]", String::from_utf8_lossy(raw))?;
                }
            }
        }
        if let Some(content_type) = &self.content_type {
            write!(f, " [Content-Type: {content_type}]")?;
        }
        if let Some(csrf) = &self.csrf {
            write!(f, " [csrf: {csrf:?}]")?;
        }
        if let Some(body) = &self.body {
            write!(
                f,
                " body ({} bytes): {:?}",
                body.len(),
                clip(&String::from_utf8_lossy(body), 800)
            )?;
        }
        Ok(())
    }
}

/// An answer read in full.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.status)?;
        for name in [
            "content-type",
            "retry-after",
            "www-authenticate",
            "allow",
            "location",
        ] {
            if let Some(value) = self.header(name) {
                write!(f, " [{name}: {value}]")?;
            }
        }
        write!(f, " body: {:?}", clip(&self.body, 800))
    }
}

/// Sends a probe; the answer, or why there was none.
pub(crate) async fn send(clients: &Clients, probe: &Probe) -> Result<Answer, String> {
    let (client, mut csrf) = match probe.sender {
        Sender::Scim => (clients.scim.clone(), String::new()),
        Sender::Console => (clients.console.clone(), clients.console_csrf.clone()),
        Sender::Settings => (clients.settings.clone(), clients.settings_csrf.clone()),
        Sender::SignIn => (plain_client(true), String::new()),
    };
    let mut url = format!("{}{}", clients.base, probe.target);
    if probe.sender == Sender::SignIn {
        // The sign-in form's token comes with its page and a cookie, as in a browser.
        let page = read(client.get(&url).send().await).await?;
        if page.status >= 500 {
            return Err(format!("the sign-in page answered {page}"));
        }
        csrf = field_value(&page.body, "csrf").unwrap_or_default();
        url = format!("{}/console/login", clients.base);
    }
    let mut request = client.request(probe.method.clone(), &url);
    if probe.sender == Sender::Scim {
        request = request.header(ACCEPT, SCIM_JSON);
        let token = &clients.token;
        let authorization = match &probe.auth {
            Auth::Token => Some(format!("Bearer {token}").into_bytes()),
            Auth::Missing => None,
            Auth::AroundToken(before, after) => {
                Some(format!("{before}{token}{after}").into_bytes())
            }
            Auth::Raw(raw) => Some(raw.clone()),
        };
        if let Some(value) = authorization {
            request = request.header(AUTHORIZATION, header_value(value));
        }
    } else if probe.method != Method::GET {
        request = request.header(ORIGIN, &clients.base);
    }
    if let Some(content_type) = &probe.content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    if let Some(body) = &probe.body {
        let mut full = match &probe.csrf {
            Some(Csrf::Session) => form_body(&[("csrf", csrf.into_bytes())]).into_bytes(),
            Some(Csrf::Junk(junk)) => {
                form_body(&[("csrf", junk.clone().into_bytes())]).into_bytes()
            }
            Some(Csrf::Omitted) | None => Vec::new(),
        };
        if !full.is_empty() && !body.is_empty() {
            full.push(b'&');
        }
        full.extend_from_slice(body);
        request = request.body(full);
    }
    read(request.send().await).await
}

/// Reads a response in full.
pub(crate) async fn read(response: reqwest::Result<reqwest::Response>) -> Result<Answer, String> {
    let response = response.map_err(|e| format!("no answer: {e:?}"))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response
        .bytes()
        .await
        .map_err(|e| format!("{status}, then the body broke off: {e:?}"))?;
    Ok(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    })
}

/// A header value from any bytes: those a header cannot carry (controls) become `?`.
pub(crate) fn header_value(bytes: Vec<u8>) -> HeaderValue {
    let cleaned: Vec<u8> = bytes
        .into_iter()
        .map(|b| {
            if (b < 0x20 && b != b'\t') || b == 0x7f {
                b'?'
            } else {
                b
            }
        })
        .collect();
    HeaderValue::from_bytes(&cleaned).unwrap_or_else(|_| HeaderValue::from_static("?"))
}

/// What every answer must satisfy; the problem otherwise.
pub(crate) fn check(probe: &Probe, answer: &Answer) -> Result<(), String> {
    // A 503 that says when to retry is how the server sheds load or loses a lock race; the
    // run lists them (see `Outcome::busy`) without failing.
    let retry_later = answer.status == 503 && answer.header("retry-after").is_some();
    if answer.status >= 500 && !not_offered(probe, answer) && !retry_later {
        return Err(format!("server error {}", answer.status));
    }
    if answer.body.contains(SECRET) {
        return Err("the answer repeats a password".into());
    }
    match probe.sender {
        Sender::Scim => check_scim(probe, answer),
        Sender::Console | Sender::Settings | Sender::SignIn => check_console(answer),
    }
}

/// The 501 RFC 7644 has for an endpoint a service provider does not offer (bulk, `/Me`,
/// searching at the root), which the server answers whatever the method.
pub(crate) fn not_offered(probe: &Probe, answer: &Answer) -> bool {
    // `/scim/v2/{tenant}/{endpoint}`
    let path = probe.target.split('?').next().unwrap_or_default();
    let segments: Vec<&str> = path.split('/').collect();
    answer.status == 501
        && probe.sender == Sender::Scim
        && segments.len() == 5
        && matches!(segments[4], "Bulk" | "Me" | ".search")
}

/// A SCIM error is an RFC 7644 §3.12 error body; any other answer with a body is SCIM JSON.
pub(crate) fn check_scim(probe: &Probe, answer: &Answer) -> Result<(), String> {
    let media_type = answer
        .header("content-type")
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    // A HEAD answer has its headers but no body.
    let has_body = probe.method != Method::HEAD;
    if answer.status < 400 {
        if has_body && !answer.body.is_empty() {
            if media_type != Some(SCIM_JSON) {
                return Err("a SCIM answer that is not application/scim+json".into());
            }
            serde_json::from_str::<Value>(&answer.body)
                .map_err(|e| format!("a SCIM answer that is not JSON: {e}"))?;
        }
        return Ok(());
    }
    if media_type != Some(SCIM_JSON) {
        return Err("a SCIM error that is not application/scim+json".into());
    }
    if matches!(answer.status, 429 | 503) && answer.header("retry-after").is_none() {
        return Err(format!("{} without Retry-After", answer.status));
    }
    if answer.status == 401
        && !answer
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    {
        return Err("401 without WWW-Authenticate: Bearer".into());
    }
    if !has_body {
        return Ok(());
    }
    let error: Value = serde_json::from_str(&answer.body)
        .map_err(|e| format!("a SCIM error body that is not JSON: {e}"))?;
    if error["schemas"] != json!([ERROR_SCHEMA]) {
        return Err("a SCIM error without the Error schema".into());
    }
    if error["status"] != json!(answer.status.to_string()) {
        return Err("a SCIM error whose \"status\" is not the HTTP status as a string".into());
    }
    for optional in ["scimType", "detail"] {
        if error.get(optional).is_some_and(|v| !v.is_string()) {
            return Err(format!("a SCIM error whose \"{optional}\" is not a string"));
        }
    }
    Ok(())
}

/// Console pages escape what they show.
pub(crate) fn check_console(answer: &Answer) -> Result<(), String> {
    let html = answer
        .header("content-type")
        .is_some_and(|v| v.starts_with("text/html"));
    if html && answer.body.contains(MARKUP) {
        return Err(format!("a console page shows {MARKUP:?} unescaped"));
    }
    Ok(())
}
