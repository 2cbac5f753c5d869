//! Arranging the run: the tenants, users, group and signed-in clients the requests are aimed at.

use super::*;

/// What generated requests aim at: the fuzzed tenant's SCIM base and resources that exist.
#[derive(Debug, Clone)]
pub(crate) struct Targets {
    /// `/scim/v2/{tenant}`.
    pub(crate) scim: String,
    /// A user that PATCH and PUT change.
    pub(crate) user: String,
    /// A second user, for members and managers.
    pub(crate) member: String,
    /// A group with both users.
    pub(crate) group: String,
}

/// The HTTP clients and credentials requests are sent with.
#[derive(Clone)]
pub(crate) struct Clients {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// The fuzzed tenant's SCIM token.
    pub(crate) token: String,
    /// Cookie-less, for SCIM.
    pub(crate) scim: reqwest::Client,
    /// The fuzzed tenant's signed-in admin.
    pub(crate) console: reqwest::Client,
    /// That session's CSRF token.
    pub(crate) console_csrf: String,
    /// The admin of a second tenant, whose sign-in settings the run changes at will (SCIM
    /// stops when a tenant leaves OpenID, so the fuzzed tenant's settings stay as they are).
    pub(crate) settings: reqwest::Client,
    /// That session's CSRF token.
    pub(crate) settings_csrf: String,
}

/// A SCIM-enabled OpenID tenant with a token, a signed-in admin, two users and a group made
/// through the API, and a second tenant's admin for the sign-in settings form.
pub(crate) async fn arrange(app: &TestApp) -> (Targets, Clients) {
    let admin = app.login_admin_of(TenantFixture::new("Fuzz")).await;
    let tenant = admin.tenant.id;
    let token = app.issue_token(tenant, Utc::now()).await.token;
    let settings = app
        .login_admin_of(TenantFixture::new("Fuzz Settings"))
        .await;
    let console = signed_in(app, &admin).await;
    let settings = signed_in(app, &settings).await;
    let clients = Clients {
        base: app.base.clone(),
        token,
        scim: plain_client(false),
        console_csrf: console.csrf("/console/users").await,
        console: console.client,
        settings_csrf: settings.csrf("/console/settings/sign-in").await,
        settings: settings.client,
    };
    let scim = format!("/scim/v2/{tenant}");
    let create = |path: &str, body: Value| {
        let clients = clients.clone();
        let url = format!("{}{scim}{path}", app.base);
        async move {
            let response = clients
                .scim
                .post(&url)
                .bearer_auth(&clients.token)
                .header(CONTENT_TYPE, SCIM_JSON)
                .body(body.to_string())
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST {url}: {e}"));
            let status = response.status();
            let created: Value = response
                .json()
                .await
                .unwrap_or_else(|e| panic!("POST {url}: {e}"));
            assert_eq!(status.as_u16(), 201, "POST {url}: {created}");
            created["id"].as_str().unwrap_or_default().to_owned()
        }
    };
    let user = create(
        "/Users",
        json!({"schemas": [USER_SCHEMA, ENTERPRISE], "userName": TARGET_NAME,
               "name": {"givenName": "Fuzz", "familyName": "Target"},
               "emails": [{"value": TARGET_NAME, "type": "work", "primary": true}],
               ENTERPRISE: {"department": "QA"}}),
    )
    .await;
    let member = create(
        "/Users",
        json!({"schemas": [USER_SCHEMA], "userName": "fuzz-member@example.com"}),
    )
    .await;
    let group = create(
        "/Groups",
        json!({"schemas": [GROUP_SCHEMA], "displayName": "Fuzz Group",
               "members": [{"value": user}, {"value": member}]}),
    )
    .await;
    let targets = Targets {
        scim,
        user,
        member,
        group,
    };
    (targets, clients)
}

/// A browser of our own (see [`plain_client`]) signed in as `admin`.
pub(crate) async fn signed_in(app: &TestApp, admin: &Admin) -> Browser {
    let browser = Browser {
        base: app.base.clone(),
        client: plain_client(true),
    };
    let response = browser
        .sign_in(&admin.tenant.email, &admin.tenant.password)
        .await;
    assert_eq!(
        response.status().as_u16(),
        303,
        "{} cannot sign in",
        admin.tenant.email
    );
    browser
}

/// A client that never follows redirects, with or without a cookie jar. Idle connections are
/// dropped well before the server's 5 s keep-alive ends them, so that no request is sent on a
/// connection the server is closing at that moment (which would fail as an incomplete answer).
pub(crate) fn plain_client(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(cookies)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(2))
        .build()
        .unwrap_or_else(|e| panic!("cannot build client: {e}"))
}

/// `FUZZ_SEED`, or a new seed from the clock.
pub(crate) fn seed() -> u64 {
    std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            u64::try_from(nanos % u128::from(u64::MAX)).unwrap_or_default()
        })
}

/// proptest's random source from a 64-bit seed.
pub(crate) fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        let word = seed.rotate_left(u32::try_from(i * 16).unwrap_or_default());
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}
