//! Test support shared by every crate's integration tests: a real PostgreSQL server (the one in
//! `TEST_DATABASE_URL` / `DATABASE_URL`, else a private throwaway cluster started once per test
//! process), a template database migrated once, and a fresh database per test made from it.

pub mod http_receiver;
mod loopback;
pub mod oidc;
pub mod smtp;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use diesel::{Connection as _, PgConnection, RunQueryDsl as _};
use local_postgres::{Durability, LocalCluster};
use tenancy::Db;

/// Connections per test database pool: enough for concurrency tests, small enough that many
/// tests can run side by side.
const TEST_POOL_SIZE: u32 = 12;

/// The server every test database of this process lives on.
struct Server {
    /// URL of the server with `{db}` standing for the database name.
    url_template: String,
    /// The migrated template database of this process.
    template: String,
}

impl Server {
    fn url(&self, dbname: &str) -> String {
        self.url_template.replace("{db}", dbname)
    }
}

static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();

/// A database of its own for one test, created from the migrated template and dropped when the
/// value is dropped.
pub struct TestDb {
    name: String,
    url: String,
    db: Db,
}

impl TestDb {
    /// Creates a fresh, fully migrated database. Panics (failing the test) with the reason when
    /// no PostgreSQL server can be had.
    #[expect(
        clippy::panic,
        reason = "test support: a missing database must fail the test loudly"
    )]
    pub fn new() -> Self {
        let server = match SERVER.get_or_init(start_server) {
            Ok(server) => server,
            Err(message) => panic!("no PostgreSQL for tests: {message}"),
        };
        let name = format!(
            "t_{}_{}",
            std::process::id(),
            tenancy::secret::random_alphanumeric(10).to_lowercase()
        );
        if let Err(e) = admin_execute(
            server,
            &format!(
                "CREATE DATABASE \"{name}\" TEMPLATE \"{}\"",
                server.template
            ),
        ) {
            panic!("cannot create test database: {e}");
        }
        let url = server.url(&name);
        let db = Db::new(&url, TEST_POOL_SIZE);
        Self { name, url, db }
    }

    /// The pool for this database.
    pub fn db(&self) -> &Db {
        &self.db
    }

    /// The libpq URL of this database (for tools such as pgbench, or a server under test).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// A direct connection, for arranging and asserting outside `Db::run`.
    #[expect(clippy::panic, reason = "test support")]
    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url)
            .unwrap_or_else(|e| panic!("cannot connect to test database: {e}"))
    }
}

impl Default for TestDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(Ok(server)) = SERVER.get() {
            let _ = admin_execute(
                server,
                &format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name),
            );
        }
    }
}

/// A random secret for test fixtures.
pub fn random_secret() -> String {
    tenancy::secret::random_alphanumeric(24)
}

fn admin_execute(server: &Server, sql: &str) -> Result<(), String> {
    let mut conn = PgConnection::establish(&server.url("postgres")).map_err(|e| e.to_string())?;
    diesel::sql_query(sql)
        .execute(&mut conn)
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn start_server() -> Result<Server, String> {
    let url_template =
        match std::env::var("TEST_DATABASE_URL").or_else(|_| std::env::var("DATABASE_URL")) {
            Ok(url) => with_db_placeholder(&url)?,
            Err(_) => start_private_cluster()?,
        };
    let server = Server {
        url_template,
        template: format!("app_template_{}", std::process::id()),
    };
    sweep_leftovers(&server)?;
    admin_execute(
        &server,
        &format!("DROP DATABASE IF EXISTS \"{}\"", server.template),
    )?;
    admin_execute(&server, &format!("CREATE DATABASE \"{}\"", server.template))?;
    {
        let mut conn =
            PgConnection::establish(&server.url(&server.template)).map_err(|e| e.to_string())?;
        tenancy::migrations::run_pending(&mut conn).map_err(|e| e.to_string())?;
    }
    Ok(server)
}

/// A throwaway cluster in /tmp, stopped and removed by a watchdog process once this test
/// process exits (Rust's test harness runs no destructors for statics).
fn start_private_cluster() -> Result<String, String> {
    let root = std::env::temp_dir().join(format!("insights-test-{}", std::process::id()));
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    set_mode(&root, 0o755)?;
    let cluster =
        LocalCluster::open(&root.join("pg"), Durability::Throwaway).map_err(|e| e.to_string())?;
    spawn_watchdog(&cluster.stop_command(), &root)?;
    Ok(cluster.database_url("{db}"))
}

fn spawn_watchdog(stop: &[String], root: &PathBuf) -> Result<(), String> {
    let script = r#"pid=$1; dir=$2; shift 2
while kill -0 "$pid" 2>/dev/null; do sleep 0.5; done
"$@" >/dev/null 2>&1; rm -rf "$dir""#;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg("watchdog")
        .arg(std::process::id().to_string())
        .arg(root)
        .args(stop)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map(drop)
        .map_err(|e| format!("cannot start the cluster watchdog: {e}"))
}

/// Drops test databases left by test processes that no longer run (on this machine).
fn sweep_leftovers(server: &Server) -> Result<(), String> {
    #[derive(diesel::QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        datname: String,
    }
    let mut conn = PgConnection::establish(&server.url("postgres")).map_err(|e| e.to_string())?;
    let names: Vec<Name> = diesel::sql_query(
        "SELECT datname FROM pg_database WHERE datname LIKE 't\\_%' OR datname LIKE 'app\\_template\\_%'",
    )
    .load(&mut conn)
    .map_err(|e| e.to_string())?;
    for Name { datname } in names {
        let pid = datname
            .trim_start_matches("app_template_")
            .trim_start_matches("t_")
            .split('_')
            .next();
        let alive = pid.is_some_and(|pid| PathBuf::from(format!("/proc/{pid}")).exists());
        if !alive {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS \"{datname}\" WITH (FORCE)"
            ))
            .execute(&mut conn);
        }
    }
    Ok(())
}

/// Turns `postgres://u:p@h:5432/name?x=y` into `postgres://u:p@h:5432/{db}?x=y`.
fn with_db_placeholder(url: &str) -> Result<String, String> {
    let scheme_end = url.find("://").ok_or("the database URL has no scheme")? + 3;
    let rest = &url[scheme_end..];
    let authority_end = rest.rfind('@').map_or(0, |at| at + 1);
    let path_start = rest[authority_end..].find('/').map(|i| i + authority_end);
    let (base, query) = match path_start {
        Some(start) => {
            let path = &rest[start..];
            let query = path.find('?').map_or("", |q| &path[q..]);
            (&rest[..start], query)
        }
        None => {
            let query = rest.find('?').map_or("", |q| &rest[q..]);
            (&rest[..rest.len() - query.len()], query)
        }
    };
    Ok(format!("{}{base}/{{db}}{query}", &url[..scheme_end]))
}

fn set_mode(path: &PathBuf, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::with_db_placeholder;

    #[test]
    fn placeholder_replaces_only_the_database_name() {
        assert_eq!(
            with_db_placeholder("postgres://u:p@h:5432/app?sslmode=disable").as_deref(),
            Ok("postgres://u:p@h:5432/{db}?sslmode=disable")
        );
        assert_eq!(
            with_db_placeholder("postgres://h").as_deref(),
            Ok("postgres://h/{db}")
        );
    }
}
