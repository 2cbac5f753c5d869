//! Spawning the real server on port 0 against a fresh test database, running the binary, and
//! driving the console like a browser: a cookie jar per admin, forms posted with the page's CSRF
//! token and our own `Origin`, tenants arranged straight through `tenancy`.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, LOCATION, ORIGIN};
use serde_json::Value;
use server::{RunningServer, Settings};
use tenancy::directory::groups::{self, GroupFields};
use tenancy::directory::users::{self, UserFields};
use tenancy::scim_tokens::{self, IssuedToken};
use tenancy::tenants::{NewTenant, OpenIdSettings};
use tenancy::{Db, GroupId, TenantId, UserId, bootstrap};
use testkit::TestDb;

/// A running server with its own database.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client that keeps cookies and does not follow redirects.
    pub client: reqwest::Client,
    /// The database the server uses (kept alive as long as the server).
    pub _test_db: TestDb,
    server: RunningServer,
}

impl TestApp {
    /// GET a path on the server.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
    }

    /// Whether the server remembers verified tokens yet (its listener is connected).
    pub fn listening_for_tokens(&self) -> bool {
        self.server.tokens.is_listening()
    }

    /// The server's notification worker (tests drive it with their own clock).
    pub fn notifier(&self) -> &notify::Notifier {
        &self.server.notifier
    }

    /// The server's database, for arranging and asserting.
    pub fn db(&self) -> &Db {
        self._test_db.db()
    }

    /// A new browser: its own cookie jar, not signed in.
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            client: cookie_client(),
        }
    }

    /// A new browser whose requests reach the server through a proxy that says they come from
    /// `client` (`X-Forwarded-For`; believed only when the server trusts 127.0.0.1).
    pub fn browser_from(&self, client: &str) -> Browser {
        let mut headers = reqwest::header::HeaderMap::new();
        if let Ok(value) = reqwest::header::HeaderValue::from_str(client) {
            headers.insert("x-forwarded-for", value);
        }
        Browser {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .default_headers(headers)
                .build()
                .unwrap_or_else(|e| panic!("cannot build client: {e}")),
        }
    }

    /// Creates a tenant and its admin (with a one-time password) as `fixture` says.
    pub async fn create_tenant(&self, fixture: TenantFixture) -> Tenant {
        let email = fixture.admin_email.clone();
        let new = NewTenant {
            name: fixture.name.clone(),
            scim_enabled: fixture.scim,
            openid: fixture.openid.then(|| OpenIdSettings {
                issuer: "https://idp.example/".into(),
                client_id: "insights".into(),
                client_secret: "idp-secret".into(),
            }),
        };
        let (tenant, admin) = self
            .db()
            .run_across_tenants(tenancy::CrossTenant::Operator, move |conn| {
                bootstrap::create_tenant_with_admin(
                    conn,
                    &new,
                    Some(&email),
                    &tenancy::sealed::SecretKeys::for_tests(),
                )
            })
            .await
            .unwrap_or_else(|e| panic!("cannot create tenant: {e}"));
        let (admin, password) = admin.unwrap_or_else(|| panic!("no admin was created"));
        Tenant {
            id: tenant.id,
            email: admin.email,
            password,
        }
    }

    /// A SCIM-enabled OpenID tenant "Acme" whose admin has signed in and replaced the one-time
    /// password.
    pub async fn login_admin(&self) -> Admin {
        self.login_admin_of(TenantFixture::new("Acme")).await
    }

    /// The admin of a new tenant made from `fixture`, signed in with the one-time password
    /// already replaced.
    pub async fn login_admin_of(&self, fixture: TenantFixture) -> Admin {
        let mut tenant = self.create_tenant(fixture).await;
        let browser = self.browser();
        let signed_in = browser.sign_in(&tenant.email, &tenant.password).await;
        assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&signed_in), "/console/password");
        let new_password = "correct horse battery staple".to_owned();
        let changed = browser
            .submit(
                "/console/password",
                "/console/password",
                &[
                    ("current", &tenant.password),
                    ("new_password", &new_password),
                    ("confirm", &new_password),
                ],
            )
            .await;
        assert_eq!(
            changed.status(),
            StatusCode::SEE_OTHER,
            "password change failed"
        );
        tenant.password = new_password;
        Admin { browser, tenant }
    }

    /// Issues a SCIM token for `tenant` as of `now` (a time in the past makes an expired one).
    pub async fn issue_token(&self, tenant: TenantId, now: DateTime<Utc>) -> IssuedToken {
        self.db()
            .run(tenant, move |conn| {
                scim_tokens::issue(conn, tenant, now, chrono::Duration::days(7))
            })
            .await
            .unwrap_or_else(|e| panic!("cannot issue a token: {e}"))
    }

    /// Inserts a user from a SCIM document (`source` is `scim`, `import` or `console`).
    pub async fn insert_user(&self, tenant: TenantId, doc: Value, source: &'static str) -> UserId {
        self.db()
            .run(tenant, move |conn| {
                let fields = UserFields::from_document(doc)?;
                let source = tenancy::stored::UserSource::parse(source)
                    .unwrap_or_else(|| panic!("no user source {source:?}"));
                users::insert(conn, tenant, &fields, source, Utc::now())
            })
            .await
            .map(|row| row.id)
            .unwrap_or_else(|e| panic!("cannot insert user: {e}"))
    }

    /// Inserts a group with these members.
    pub async fn insert_group(&self, tenant: TenantId, name: &str, members: &[UserId]) -> GroupId {
        let fields = GroupFields {
            display_name: name.to_owned(),
            external_id: None,
            attributes: serde_json::json!({ "displayName": name }),
        };
        let members = members.to_vec();
        self.db()
            .run(tenant, move |conn| {
                let group = groups::insert(conn, tenant, &fields, Utc::now())?;
                groups::add_members(conn, tenant, group.id, &members)?;
                Ok::<_, tenancy::Error>(group.id)
            })
            .await
            .unwrap_or_else(|e| panic!("cannot insert group: {e}"))
    }

    /// A request to the SCIM API of `tenant` with a bearer token.
    pub fn scim(
        &self,
        method: reqwest::Method,
        tenant: TenantId,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}/scim/v2/{tenant}{path}", self.base))
            .bearer_auth(token)
            .header(CONTENT_TYPE, "application/scim+json")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting connections; the runtime ends the rest with the test.
        drop(self.server.handle.stop(false));
    }
}

/// How to make a tenant for a test.
#[derive(Debug, Clone)]
pub struct TenantFixture {
    name: String,
    admin_email: String,
    scim: bool,
    openid: bool,
}

impl TenantFixture {
    /// A SCIM-enabled tenant with OpenID sign-in (the one that can generate tokens).
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            admin_email: format!("admin@{}.example", name.to_lowercase().replace(' ', "-")),
            scim: true,
            openid: true,
        }
    }

    /// SCIM not switched on by the operator.
    pub fn without_scim(mut self) -> Self {
        self.scim = false;
        self
    }

    /// Password sign-in for the tenant's users instead of OpenID.
    pub fn with_password_sign_in(mut self) -> Self {
        self.openid = false;
        self
    }
}

/// A tenant as created, with its admin's current password.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The tenant's id.
    pub id: TenantId,
    /// The admin's email.
    pub email: String,
    /// The admin's password (the one-time password until it is changed).
    pub password: String,
}

/// A signed-in admin.
pub struct Admin {
    /// The admin's browser (holds the session cookie).
    pub browser: Browser,
    /// The admin's tenant.
    pub tenant: Tenant,
}

impl std::ops::Deref for Admin {
    type Target = Browser;

    fn deref(&self) -> &Browser {
        &self.browser
    }
}

/// A cookie jar on the server, posting forms the way a browser does.
pub struct Browser {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Keeps cookies, does not follow redirects.
    pub client: reqwest::Client,
}

impl Browser {
    /// GET a path.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}"))
    }

    /// GET a page that must answer 200; its HTML.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        text(response).await
    }

    /// The CSRF token in the forms of the page at `path`.
    pub async fn csrf(&self, path: &str) -> String {
        let html = self.page(path).await;
        field_value(&html, "csrf").unwrap_or_else(|| panic!("no csrf field on {path}"))
    }

    /// POSTs a urlencoded form as our own page would (with our `Origin`), fields as given.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.post_form_from(path, fields, Some(&self.base)).await
    }

    /// POSTs a urlencoded form with the given `Origin` header (none when `None`).
    pub async fn post_form_from(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.base))
            .form(fields);
        if let Some(origin) = origin {
            request = request.header(ORIGIN, origin);
        }
        request
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }

    /// Submits a form of the page at `page` to `action`, with that page's CSRF token added.
    pub async fn submit(
        &self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let csrf = self.csrf(page).await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_form(action, &all).await
    }

    /// Signs in through the sign-in form (its CSRF cookie and field included).
    pub async fn sign_in(&self, email: &str, password: &str) -> reqwest::Response {
        self.sign_in_to(email, password, None).await
    }

    /// Signs in asking to return to `next`.
    pub async fn sign_in_to(
        &self,
        email: &str,
        password: &str,
        next: Option<&str>,
    ) -> reqwest::Response {
        let html = self.page("/console/login").await;
        let csrf = field_value(&html, "csrf").unwrap_or_else(|| panic!("no csrf on sign-in"));
        let mut fields = vec![
            ("csrf", csrf.as_str()),
            ("email", email),
            ("password", password),
        ];
        if let Some(next) = next {
            fields.push(("next", next));
        }
        self.post_form("/console/login", &fields).await
    }

    /// POSTs a multipart form (the import upload) with our `Origin`.
    pub async fn post_multipart(&self, path: &str, parts: &[Part<'_>]) -> reqwest::Response {
        let boundary = "----insights-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for part in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match part {
                Part::Text(name, value) => {
                    body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")
                            .as_bytes(),
                    );
                    body.extend_from_slice(value.as_bytes());
                }
                Part::File(file_name, content) => {
                    body.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    body.extend_from_slice(content);
                }
            }
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.client
            .post(format!("{}{path}", self.base))
            .header(
                CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(ORIGIN, &self.base)
            .body(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}"))
    }

    /// Uploads a CSV to the import page (with the session's CSRF token); the response.
    pub async fn upload_csv(&self, kind: &str, file_name: &str, csv: &[u8]) -> reqwest::Response {
        let csrf = self.csrf("/console/import").await;
        self.post_multipart(
            "/console/import",
            &[
                Part::Text("csrf", &csrf),
                Part::Text("kind", kind),
                Part::File(file_name, csv),
            ],
        )
        .await
    }

    /// GETs an import job's page until the job is no longer pending (at most `limit`); its HTML.
    pub async fn wait_for_import(&self, job_path: &str, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        loop {
            let html = self.page(job_path).await;
            // A pending job's page refreshes itself.
            if !html.contains("http-equiv=\"refresh\"") {
                return html;
            }
            assert!(
                Instant::now() < deadline,
                "the import at {job_path} did not finish within {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// A part of a multipart form.
pub enum Part<'a> {
    /// A text field: name, value.
    Text(&'a str, &'a str),
    /// The `file` field: file name, content.
    File(&'a str, &'a [u8]),
}

/// A client that keeps cookies and does not follow redirects.
fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("cannot build client: {e}"))
}

/// The `Location` of a redirect ("" when there is none).
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// A response's body as text.
pub async fn text(response: reqwest::Response) -> String {
    response
        .text()
        .await
        .unwrap_or_else(|e| panic!("cannot read body: {e}"))
}

/// The value of the first `<input name="NAME" value="...">` in `html`.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let start = html.find(&format!("name=\"{name}\" value=\""))? + name.len() + 15;
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// The value of the element with `id="ID" ... value="..."` in `html` (a read-only input).
pub fn input_value_by_id(html: &str, id: &str) -> Option<String> {
    let tag_start = html.find(&format!("id=\"{id}\""))?;
    let tag = &html[tag_start..tag_start + html[tag_start..].find('>')?];
    let start = tag.find("value=\"")? + 7;
    let end = tag[start..].find('"')?;
    Some(tag[start..start + end].to_owned())
}

/// Every `…/{segment}/{id}` link target in `html` after `prefix` (ids up to the next quote or
/// slash), in page order.
pub fn ids_after(html: &str, prefix: &str) -> Vec<String> {
    html.match_indices(prefix)
        .filter_map(|(at, _)| {
            let rest = &html[at + prefix.len()..];
            let end = rest.find(['"', '/', '?'])?;
            Some(rest[..end].to_owned())
        })
        .filter(|id| !id.is_empty())
        .collect()
}

/// Starts the server on 127.0.0.1:0 against a fresh migrated database.
pub async fn spawn_app() -> TestApp {
    let test_db = TestDb::new();
    spawn_app_with(Settings::for_tests(test_db.url()), test_db)
}

/// Starts the server with the given settings (its database still belongs to `test_db`).
pub fn spawn_app_with(settings: Settings, test_db: TestDb) -> TestApp {
    let mut settings = settings;
    settings.db_pool_size = 4;
    let db = settings.db(settings.database_url.as_deref().unwrap_or(test_db.url()));
    let server =
        server::spawn(&settings, db).unwrap_or_else(|e| panic!("cannot start server: {e}"));
    TestApp {
        base: format!("http://{}", server.addr),
        client: cookie_client(),
        _test_db: test_db,
        server,
    }
}

/// Runs the `insights` binary with `args` against `database_url`.
pub fn insights(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_insights"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("INSIGHTS_PUBLIC_URL", "https://insights.example")
        .env("INSIGHTS_SECRET_KEY", tenancy::sealed::TEST_KEY_HEX)
        .env_remove("RUST_LOG")
        .output()
        .unwrap_or_else(|e| panic!("cannot run insights: {e}"))
}

/// Parses a command's stdout as JSON, failing the test with its stderr otherwise.
pub fn json_stdout(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}
