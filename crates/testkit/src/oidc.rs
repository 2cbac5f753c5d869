//! A real OpenID provider for sign-in tests: the certified `oidc-provider` npm package, run with
//! Node on 127.0.0.1 (see `oidc-provider/server.js`). Its npm dependencies are installed on
//! first use.

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use serde_json::{Value, json};

/// Serialises the one-time `npm ci`.
static INSTALL: Mutex<bool> = Mutex::new(false);

/// A running provider; stopped when dropped.
pub struct TestProvider {
    /// The issuer URL (`http://127.0.0.1:PORT`, no trailing slash).
    pub issuer: String,
    /// The client id registered at the provider.
    pub client_id: String,
    /// The client secret.
    pub client_secret: String,
    config: Value,
    child: Child,
}

fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("oidc-provider")
}

fn ensure_installed() -> Result<(), String> {
    let mut installed = INSTALL
        .lock()
        .map_err(|_| "install lock poisoned".to_owned())?;
    if *installed || provider_dir().join("node_modules/oidc-provider").exists() {
        *installed = true;
        return Ok(());
    }
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(provider_dir())
        .status()
        .map_err(|e| format!("cannot run npm (is Node.js installed?): {e}"))?;
    if !status.success() {
        return Err("npm ci for the test OpenID provider failed".into());
    }
    *installed = true;
    Ok(())
}

impl TestProvider {
    /// Starts a provider with one client (`insights` / a random secret) allowed to redirect to
    /// `redirect_uris`, and the given accounts: `{ "<login>": { "email": …, "preferred_username": … } }`.
    #[expect(
        clippy::panic,
        reason = "test support: a provider that cannot start must fail the test"
    )]
    pub fn start(
        redirect_uris: &[String],
        post_logout_redirect_uris: &[String],
        accounts: Value,
    ) -> Self {
        let client_secret = crate::random_secret();
        let config = json!({
            "port": 0,
            "clients": [{
                "client_id": "insights",
                "client_secret": client_secret,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout_redirect_uris,
            }],
            "accounts": accounts,
        });
        Self::spawn(config, client_secret)
            .unwrap_or_else(|e| panic!("cannot start the test OpenID provider: {e}"))
    }

    fn spawn(config: Value, client_secret: String) -> Result<Self, String> {
        ensure_installed()?;
        let mut child = Command::new("node")
            .arg("server.js")
            .current_dir(provider_dir())
            .env("OIDC_TEST_CONFIG", config.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run node: {e}"))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).map_err(|e| e.to_string())?;
        // Keep reading, so the provider never writes into a closed pipe (which would kill it).
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let issuer = line
            .trim()
            .strip_prefix("READY ")
            .ok_or_else(|| format!("unexpected provider output: {line:?}"))?
            .to_owned();
        Ok(Self {
            issuer,
            client_id: "insights".into(),
            client_secret,
            config,
            child,
        })
    }

    /// Restarts the provider on the same port with a new signing key (key rotation). Sessions at
    /// the provider are lost, as after a real rotation with a restart.
    #[expect(clippy::panic, reason = "test support")]
    pub fn rotate_keys(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let port: u16 = self
            .issuer
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let mut config = self.config.clone();
        config["port"] = json!(port);
        let restarted = Self::spawn(config, self.client_secret.clone())
            .unwrap_or_else(|e| panic!("cannot restart the provider: {e}"));
        let mut old = std::mem::replace(self, restarted);
        // `old.child` was already stopped above.
        let _ = old.child.try_wait();
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
