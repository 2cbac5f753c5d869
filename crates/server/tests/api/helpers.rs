//! Spawning the real server on port 0 against a fresh test database, and running the binary.

use std::process::{Command, Output};

use server::{RunningServer, Settings};
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
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting connections; the runtime ends the rest with the test.
        drop(self.server.handle.stop(false));
    }
}

/// Starts the server on 127.0.0.1:0 against a fresh migrated database.
pub async fn spawn_app() -> TestApp {
    let test_db = TestDb::new();
    spawn_app_with(Settings::for_tests(test_db.url()), test_db)
}

/// Starts the server with the given settings (its database still belongs to `test_db`).
pub fn spawn_app_with(settings: Settings, test_db: TestDb) -> TestApp {
    let db = tenancy::Db::new(settings.database_url.as_deref().unwrap_or(test_db.url()), 4);
    let server =
        server::spawn(&settings, db).unwrap_or_else(|e| panic!("cannot start server: {e}"));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("cannot build client: {e}"));
    TestApp {
        base: format!("http://{}", server.addr),
        client,
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
