//! The test harness: a real actix `HttpServer` on 127.0.0.1:0 serving the SCIM routes against a
//! fresh database, a SCIM-enabled OpenID tenant with a bearer token, the default client (see
//! `client.rs`) that speaks `application/scim+json` with that token, and database look-ups for
//! assertions.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use chrono::Utc;
use diesel::RunQueryDsl as _;
use scim_api::service::totals::Totals;
use scim_api::service::user_batches::Batches;
use scim_api::{EventSink, ScimState};
use serde_json::{Value, json};
use tenancy::scim_tokens::TokenCache;
use tenancy::tenants::{NewTenant, OpenIdSettings};
use tenancy::{Db, Deployment, TenantId};
use testkit::TestDb;

pub use crate::client::{Scim, encode, filter_query, patch_body, redacted, values_of};

/// The SCIM media type every request is sent with.
pub const SCIM_JSON: &str = "application/scim+json";
/// The core User schema URN.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The Enterprise User extension URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The core Group schema URN.
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The PatchOp message URN.
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// The Error message URN.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// The ListResponse message URN.
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// A running SCIM service provider with its own database and one tenant.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub address: String,
    /// The tenant the default client talks to.
    pub tenant: TenantId,
    /// Its bearer token.
    pub token: String,
    /// The default client: this tenant with its token.
    pub scim: Scim,
    /// The database the server uses.
    pub test_db: TestDb,
    /// The server's memory of verified tokens.
    pub tokens: TokenCache,
    /// The server's batchers of user work, for their figures.
    pub batches: Batches,
    handle: ServerHandle,
}

impl std::ops::Deref for TestApp {
    type Target = Scim;

    fn deref(&self) -> &Scim {
        &self.scim
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Sends the stop command at once; the runtime ends the rest with the test.
        drop(self.handle.stop(false));
    }
}

/// What a test may change about the server it starts.
#[derive(Default)]
pub struct AppOptions {
    /// The database limits (the test database's pool otherwise).
    pub limits: Option<tenancy::DbLimits>,
    /// How long a request body may take to arrive.
    pub body_timeout: Option<Duration>,
    /// The throttling of failed authentication.
    pub auth_limits: Option<scim_api::auth::AuthLimits>,
    /// Another database for the server than the one the tenant is arranged in (one that is
    /// down, say).
    pub database_url: Option<String>,
}

/// Starts the server on 127.0.0.1:0 against a fresh migrated database, with one SCIM-enabled
/// OpenID tenant and a token for it.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

/// [`spawn_app`] with some settings changed.
pub async fn spawn_app_with(options: AppOptions) -> TestApp {
    let test_db = TestDb::new();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let address = format!("http://{}", listener.local_addr().expect("local address"));
    let url = options.database_url.as_deref().unwrap_or(test_db.url());
    let db = match (options.limits, &options.database_url) {
        (Some(limits), _) => Db::with_limits(url, limits),
        (None, Some(url)) => Db::new(url, 2),
        (None, None) => test_db.db().clone(),
    };
    let mut deployment = Deployment::new(&address, chrono::Duration::days(7));
    if let Some(timeout) = options.body_timeout {
        deployment = deployment.with_body_timeout(timeout);
    }
    // Mirrors crates/server/src/startup.rs.
    let (events, _writer) = EventSink::start(db.clone());
    let (rejections, _rejection_writer) = scim_api::RejectionLog::start(db.clone());
    let tokens = TokenCache::listening(&db);
    let state = ScimState {
        db: db.clone(),
        deployment,
        tokens: tokens.clone(),
        events,
        totals: Totals::default(),
        auth_limits: std::sync::Arc::new(options.auth_limits.unwrap_or_default()),
        rejections,
        batches: Batches::new(&db),
    };
    let batches = state.batches.clone();
    let db_data = web::Data::new(db);
    let scim_data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(db_data.clone())
            .app_data(scim_data.clone())
            .configure(scim_api::configure(&scim_data))
    })
    .workers(2)
    .disable_signals()
    .listen(listener)
    .expect("listen")
    .run();
    let handle = server.handle();
    tokio::spawn(server);

    let (tenant, token) = create_tenant(&test_db, "Acme").await;
    let scim = Scim::new(
        &address,
        &tenant.to_string(),
        Some(&format!("Bearer {token}")),
    );
    TestApp {
        address,
        tenant,
        token,
        scim,
        test_db,
        tokens,
        batches,
        handle,
    }
}

/// Creates a SCIM-enabled OpenID tenant and issues it a token.
pub async fn create_tenant(test_db: &TestDb, name: &str) -> (TenantId, String) {
    let name = name.to_owned();
    test_db
        .db()
        .run_across_tenants(tenancy::CrossTenant::Operator, move |conn| {
            let tenant = tenancy::tenants::create(
                conn,
                &NewTenant {
                    name,
                    scim_enabled: true,
                    openid: Some(OpenIdSettings {
                        issuer: "https://idp.example/".into(),
                        client_id: "client".into(),
                        client_secret: "secret".into(),
                    }),
                },
                &tenancy::sealed::SecretKeys::for_tests(),
            )?;
            let issued = tenancy::scim_tokens::issue(
                conn,
                tenant.id,
                Utc::now(),
                chrono::Duration::days(7),
            )?;
            Ok::<_, tenancy::Error>((tenant.id, issued.token))
        })
        .await
        .expect("create tenant and token")
}

impl TestApp {
    /// A second tenant of the same server, with its own client.
    pub async fn other_tenant(&self, name: &str) -> (TenantId, Scim) {
        let (tenant, token) = create_tenant(&self.test_db, name).await;
        let scim = Scim::new(
            &self.address,
            &tenant.to_string(),
            Some(&format!("Bearer {token}")),
        );
        (tenant, scim)
    }

    /// A client for this tenant with another `Authorization` header (or none).
    pub fn with_authorization(&self, authorization: Option<&str>) -> Scim {
        Scim::new(&self.address, &self.tenant.to_string(), authorization)
    }

    /// A client for any tenant path with this tenant's token.
    pub fn on_tenant_path(&self, tenant: &str) -> Scim {
        Scim::new(
            &self.address,
            tenant,
            Some(&format!("Bearer {}", self.token)),
        )
    }

    /// The database pool, for arranging and asserting.
    pub fn db(&self) -> &Db {
        self.test_db.db()
    }

    /// Runs one SQL statement (arrange) and announces a change to the tenant's tokens, as the
    /// application's own writes do. Returns once the server acted on it, as a server does for
    /// the console's own changes.
    pub async fn execute(&self, sql: &str) {
        let sql = sql.to_owned();
        let tenant = self.tenant;
        self.db()
            .run_across_tenants(tenancy::CrossTenant::Operator, move |conn| {
                diesel::sql_query(sql)
                    .execute(conn)
                    .map_err(tenancy::Error::from)?;
                tenancy::scim_tokens::announce(conn, tenant)
            })
            .await
            .expect("execute SQL");
        self.tokens
            .catch_up(self.db())
            .await
            .expect("token cache caught up");
    }

    /// A `BEFORE {event}` trigger on users named `name` whose PL/pgSQL `body` sees the row as
    /// `NEW`: a fault, or a delay, only the database knows of.
    pub async fn trigger_on_users(&self, name: &str, event: &str, body: &str) {
        self.execute(&format!(
            "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NEW; END $$"
        ))
        .await;
        self.execute(&format!(
            "CREATE TRIGGER {name} BEFORE {event} ON users FOR EACH ROW EXECUTE FUNCTION {name}()"
        ))
        .await;
    }

    /// Runs a query whose rows are one `json` column each (`SELECT to_jsonb(t) AS json …`).
    pub async fn query_json(&self, sql: &str) -> Vec<Value> {
        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Jsonb)]
            json: Value,
        }
        let sql = sql.to_owned();
        self.db()
            .run_across_tenants(tenancy::CrossTenant::Operator, move |conn| {
                diesel::sql_query(sql)
                    .load::<Row>(conn)
                    .map_err(tenancy::Error::from)
            })
            .await
            .expect("query")
            .into_iter()
            .map(|row| row.json)
            .collect()
    }

    /// The provisioning events of the default tenant, oldest first.
    pub async fn events(&self) -> Vec<Value> {
        self.query_json(&format!(
            "SELECT to_jsonb(e) AS json FROM provisioning_events e \
             WHERE tenant_id = '{}' ORDER BY id",
            self.tenant
        ))
        .await
    }

    /// Waits (up to ~2 s) until the tenant has at least `n` events, and returns them.
    pub async fn wait_for_events(&self, n: usize) -> Vec<Value> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let events = self.events().await;
            if events.len() >= n || Instant::now() > deadline {
                return events;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Counts all provisioning events of every tenant.
    pub async fn all_event_count(&self) -> usize {
        self.query_json("SELECT to_jsonb(count(*)) AS json FROM provisioning_events")
            .await
            .first()
            .and_then(Value::as_u64)
            .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// The stored row of a user, as JSON.
    pub async fn user_row(&self, id: &str) -> Option<Value> {
        self.query_json(&format!(
            "SELECT to_jsonb(u) AS json FROM users u WHERE tenant_id = '{}' AND id::text = '{}'",
            self.tenant,
            id.replace('\'', "")
        ))
        .await
        .into_iter()
        .next()
    }

    /// Creates a user with just a userName; returns its id.
    pub async fn create_user(&self, user_name: &str) -> String {
        let response = self
            .post(
                "/Users",
                &json!({"schemas": [USER_SCHEMA], "userName": user_name}),
            )
            .await;
        response.assert_status(201);
        response.id()
    }

    /// Creates a group with these member ids; returns its id.
    pub async fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|id| json!({"value": id})).collect();
        let response = self
            .post(
                "/Groups",
                &json!({"schemas": [GROUP_SCHEMA], "displayName": name, "members": members}),
            )
            .await;
        response.assert_status(201);
        response.id()
    }
}
