//! Settings, read once from the environment (or flags) and passed down explicitly.

use std::path::PathBuf;

use chrono::Duration;
use clap::{Args, ValueEnum};
use tenancy::sealed::SecretKeys;
use tenancy::{DbLimits, Deployment, Pooler, TrustedProxies};

/// What is in front of PostgreSQL (`INSIGHTS_DB_POOLER`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PoolerMode {
    /// A direct connection, or a pooler in session mode.
    None,
    /// A pooler in transaction mode.
    Transaction,
}

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

    /// PostgreSQL URL of the SCIM token listener's `LISTEN` session. Behind a pooler in
    /// transaction mode it must point past the pooler, at PostgreSQL itself; without it the
    /// server then checks every SCIM token against the database.
    #[arg(
        long,
        env = "INSIGHTS_LISTEN_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub listen_database_url: Option<String>,

    /// PostgreSQL URL the migrations run on (past the pooler), instead of DATABASE_URL.
    #[arg(
        long,
        env = "INSIGHTS_MIGRATION_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub migration_database_url: Option<String>,

    /// PostgreSQL URL of a streaming replica for the console's lag-tolerant reads (lists, the
    /// activity log, exports); the primary answers them while it is unreachable.
    #[arg(
        long,
        env = "INSIGHTS_READ_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub read_database_url: Option<String>,

    /// SMTP relay for notifications: smtp://user:pass@host:587 (STARTTLS required, except to a
    /// loopback relay) or smtps://host:465. Without it, e-mail is off.
    #[arg(long, env = "INSIGHTS_SMTP_URL", global = true, hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Seconds between two decisions of what to notify (and of the circuit breaker's trips):
    /// a deprovisioning spike trips the breaker within this long.
    #[arg(
        long,
        env = "INSIGHTS_NOTICE_INTERVAL_SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600),
        global = true
    )]
    pub notice_interval_secs: u64,

    /// The sender of notification e-mails, e.g. "Insights <insights@example.com>".
    #[arg(long, env = "INSIGHTS_MAIL_FROM", global = true)]
    pub mail_from: Option<String>,

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

    /// Units of database work one tenant may run at once while other tenants have work too
    /// (default: a twelfth of the pool, at least 2); alone, a tenant may use the whole pool.
    #[arg(long, env = "INSIGHTS_DB_TENANT_SHARE", global = true)]
    pub db_tenant_share: Option<u32>,

    /// What is in front of PostgreSQL: `none` (direct, or a session-mode pooler) or
    /// `transaction` (PgBouncer in transaction mode: no session state is relied on).
    #[arg(
        long,
        env = "INSIGHTS_DB_POOLER",
        value_enum,
        default_value = "none",
        global = true
    )]
    pub db_pooler: PoolerMode,

    /// How long a request body may take to arrive, in seconds (then 408 / a form message).
    #[arg(
        long,
        env = "INSIGHTS_REQUEST_BODY_TIMEOUT_SECS",
        default_value_t = 30,
        global = true
    )]
    pub request_body_timeout_secs: u64,

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

    /// Days provisioning events are kept for a tenant that has not chosen (7 to 365); older
    /// events, and the reports of imports finished before then, are deleted by the maintenance.
    #[arg(
        long,
        env = "INSIGHTS_EVENT_RETENTION_DAYS",
        default_value_t = tenancy::maintenance::retention::DEFAULT_RETENTION_DAYS,
        value_parser = clap::value_parser!(i16).range(7..=365),
        global = true
    )]
    pub event_retention_days: i16,

    /// Days the audit log of admin actions is kept, for every tenant (30 to 3650).
    #[arg(
        long,
        env = "INSIGHTS_AUDIT_RETENTION_DAYS",
        default_value_t = tenancy::audit::DEFAULT_AUDIT_RETENTION_DAYS,
        value_parser = clap::value_parser!(i16).range(30..=3650),
        global = true
    )]
    pub audit_retention_days: i16,

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

    /// The key that encrypts settings at rest (the OpenID client secrets): 64 hex digits.
    /// Unset: the key in INSIGHTS_DATA_DIR/secret.key, created on first use; replicas must then
    /// share one key, so set it explicitly for them.
    #[arg(
        long,
        env = "INSIGHTS_SECRET_KEY",
        global = true,
        hide_env_values = true
    )]
    pub secret_key: Option<String>,

    /// Earlier keys still accepted for reading (comma-separated), during a key rotation.
    #[arg(
        long,
        env = "INSIGHTS_PREVIOUS_SECRET_KEYS",
        global = true,
        hide_env_values = true
    )]
    pub previous_secret_keys: Option<String>,
}

fn parse_proxies(text: &str) -> Result<TrustedProxies, String> {
    text.parse()
}

impl Settings {
    /// Settings for tests: port 0 on loopback, a given database, defaults otherwise.
    pub fn for_tests(database_url: &str) -> Self {
        Self {
            database_url: Some(database_url.to_owned()),
            listen_database_url: None,
            migration_database_url: None,
            read_database_url: None,
            smtp_url: None,
            notice_interval_secs: 60,
            mail_from: None,
            bind: "127.0.0.1:0".into(),
            public_url: None,
            data_dir: PathBuf::from("./data"),
            log_format: LogFormat::Pretty,
            db_pool_size: 8,
            db_tenant_share: None,
            db_pooler: PoolerMode::None,
            request_body_timeout_secs: 30,
            db_statement_timeout_ms: 15_000,
            db_lock_timeout_ms: 5_000,
            token_overlap_days: 7,
            event_retention_days: tenancy::maintenance::retention::DEFAULT_RETENTION_DAYS,
            audit_retention_days: tenancy::audit::DEFAULT_AUDIT_RETENTION_DAYS,
            trusted_proxies: TrustedProxies::default(),
            secret_key: Some(tenancy::sealed::TEST_KEY_HEX.to_owned()),
            previous_secret_keys: None,
        }
    }

    /// The keys that seal settings at rest: `INSIGHTS_SECRET_KEY` (and the previous ones), or
    /// the key file in the data folder, created with a new random key when there is none.
    pub fn secret_keys(&self) -> anyhow::Result<SecretKeys> {
        let previous: Vec<&str> = self
            .previous_secret_keys
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .collect();
        let current = match &self.secret_key {
            Some(key) => key.clone(),
            None => self.key_file()?,
        };
        SecretKeys::from_hex(&current, &previous).map_err(anyhow::Error::msg)
    }

    fn key_file(&self) -> anyhow::Result<String> {
        use anyhow::Context as _;
        let path = self.data_dir.join("secret.key");
        if let Ok(key) = std::fs::read_to_string(&path) {
            return Ok(key.trim().to_owned());
        }
        if self.database_url.is_some() {
            tracing::warn!(path = %path.display(), "INSIGHTS_SECRET_KEY is not set: using a key file in the data folder; every replica must use the same key, so set INSIGHTS_SECRET_KEY for them");
        }
        std::fs::create_dir_all(&self.data_dir)
            .with_context(|| format!("cannot create {}", self.data_dir.display()))?;
        let key = SecretKeys::generate_hex();
        write_private(&path, &key)
            .with_context(|| format!("cannot write the secret key to {}", path.display()))?;
        tracing::info!(path = %path.display(), "created a new secret key for settings encrypted at rest");
        Ok(key)
    }

    /// How long events and the rest are kept (the range is checked when the setting is read).
    pub fn retention(&self) -> tenancy::maintenance::Retention {
        let events = tenancy::maintenance::Retention::with_default_days(self.event_retention_days)
            .unwrap_or_default();
        events
            .with_audit_days(self.audit_retention_days)
            .unwrap_or(events)
    }

    /// The limits of the database pool.
    pub fn db_limits(&self) -> DbLimits {
        let mut limits = DbLimits::for_pool(self.db_pool_size);
        if let Some(share) = self.db_tenant_share {
            limits.tenant_share = share.clamp(1, limits.pool_size);
        }
        limits.statement_timeout = std::time::Duration::from_millis(self.db_statement_timeout_ms);
        limits.lock_timeout = std::time::Duration::from_millis(self.db_lock_timeout_ms);
        limits.pooler = match self.db_pooler {
            PoolerMode::None => Pooler::None,
            PoolerMode::Transaction => Pooler::Transaction,
        };
        limits
    }

    /// The database at `url` (the primary: `DATABASE_URL` or the embedded cluster) with these
    /// settings' limits, listen, migration and read URLs.
    pub fn db(&self, url: &str) -> tenancy::Db {
        let limits = self.db_limits();
        tenancy::Db::with_limits(url, limits)
            .with_listen_url(self.listen_database_url.as_deref())
            .with_migration_url(self.migration_database_url.as_deref())
            .with_read_replica(self.read_database_url.as_deref(), limits)
    }

    /// The e-mail settings of the notifications.
    pub fn mail(&self) -> notify::MailSettings {
        notify::MailSettings {
            smtp_url: self.smtp_url.clone(),
            from: self.mail_from.clone(),
        }
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
        .with_body_timeout(std::time::Duration::from_secs(
            self.request_body_timeout_secs.max(1),
        ))
        .with_event_retention_days(self.event_retention_days)
    }
}

/// Writes a file only its owner may read (the key file).
fn write_private(path: &std::path::Path, content: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(content.as_bytes())?;
    file.write_all(b"\n")
}
