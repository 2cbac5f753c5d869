//! Settings, read once from the environment (or flags) and passed down explicitly.

use std::path::PathBuf;

use chrono::Duration;
use clap::{Args, ValueEnum};
use tenancy::{DbLimits, Deployment, TrustedProxies};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Everything the server and the operator commands are configured with.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// PostgreSQL URL. Without it, a private cluster in INSIGHTS_DATA_DIR/postgres is used.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Address and port the HTTP server listens on.
    #[arg(
        long,
        env = "INSIGHTS_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind: String,

    /// Public base URL (scheme, host, port) under which the Tenant URL is published. Defaults
    /// to http:// and the bind address.
    #[arg(long, env = "INSIGHTS_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,

    /// Folder for the embedded PostgreSQL cluster (used when DATABASE_URL is not set).
    #[arg(
        long,
        env = "INSIGHTS_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// Log format.
    #[arg(
        long,
        env = "INSIGHTS_LOG_FORMAT",
        value_enum,
        default_value = "pretty",
        global = true
    )]
    pub log_format: LogFormat,

    /// Database connections per server process.
    #[arg(
        long,
        env = "INSIGHTS_DB_POOL_SIZE",
        default_value_t = 24,
        global = true
    )]
    pub db_pool_size: u32,

    /// Database connections one tenant may use at once (default: half the pool, at least 2),
    /// so that one tenant's burst cannot take the pool from the others.
    #[arg(long, env = "INSIGHTS_DB_TENANT_SHARE", global = true)]
    pub db_tenant_share: Option<u32>,

    /// statement_timeout of every database connection, in milliseconds.
    #[arg(
        long,
        env = "INSIGHTS_DB_STATEMENT_TIMEOUT_MS",
        default_value_t = 15_000,
        global = true
    )]
    pub db_statement_timeout_ms: u64,

    /// lock_timeout of every database connection, in milliseconds.
    #[arg(
        long,
        env = "INSIGHTS_DB_LOCK_TIMEOUT_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub db_lock_timeout_ms: u64,

    /// Days a regenerated SCIM token's predecessor keeps working (unless the new one is used first).
    #[arg(
        long,
        env = "INSIGHTS_TOKEN_OVERLAP_DAYS",
        default_value_t = 7,
        global = true
    )]
    pub token_overlap_days: u32,

    /// Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed: addresses or
    /// networks, comma-separated (for example `127.0.0.1,10.0.0.0/8`). Empty: none.
    #[arg(
        long,
        env = "INSIGHTS_TRUSTED_PROXIES",
        default_value = "",
        value_parser = parse_proxies,
        global = true
    )]
    pub trusted_proxies: TrustedProxies,
}

fn parse_proxies(text: &str) -> Result<TrustedProxies, String> {
    text.parse()
}

impl Settings {
    /// Settings for tests: port 0 on loopback, a given database, defaults otherwise.
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: Some(database_url.to_owned()),
            bind: "127.0.0.1:0".into(),
            public_url: None,
            data_dir: PathBuf::from("./data"),
            log_format: LogFormat::Pretty,
            db_pool_size: 8,
            db_tenant_share: None,
            db_statement_timeout_ms: 15_000,
            db_lock_timeout_ms: 5_000,
            token_overlap_days: 7,
            trusted_proxies: TrustedProxies::default(),
        }
    }

    /// The limits of the database pool.
    pub fn db_limits(&self) -> DbLimits {
        let mut limits = DbLimits::for_pool(self.db_pool_size);
        if let Some(share) = self.db_tenant_share {
            limits.tenant_share = share.clamp(1, limits.pool_size);
        }
        limits.statement_timeout = std::time::Duration::from_millis(self.db_statement_timeout_ms);
        limits.lock_timeout = std::time::Duration::from_millis(self.db_lock_timeout_ms);
        limits
    }

    /// The deployment facts for the given actual listening port (the configured public URL wins).
    pub fn deployment(&self, bound: Option<std::net::SocketAddr>) -> Deployment {
        let public_url = match (&self.public_url, bound) {
            (Some(url), _) => url.clone(),
            (None, Some(addr)) if addr.ip().is_unspecified() => {
                format!("http://localhost:{}", addr.port())
            }
            (None, Some(addr)) => format!("http://{addr}"),
            (None, None) => format!("http://{}", self.bind),
        };
        Deployment::new(
            &public_url,
            Duration::days(i64::from(self.token_overlap_days)),
        )
        .with_trusted_proxies(self.trusted_proxies.clone())
    }
}
