//! The system under test: a private durable PostgreSQL cluster, `insights serve` (release
//! build) against it on a free loopback port, and a tenant with a SCIM token made with the
//! operator commands. Everything started here is stopped when the [`Stack`] is dropped, on
//! success and on error alike.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use local_postgres::{Durability, LocalCluster};

/// The release binary the benchmark drives by default.
pub const SERVER_BINARY: &str = "target/release/insights";

/// A running cluster and server, and the tenant the benchmark provisions into.
pub struct Stack {
    /// The temporary folder (cluster data, server log, pgbench scripts).
    pub dir: PathBuf,
    /// libpq URL of the database the server uses.
    pub database_url: String,
    /// `127.0.0.1:port` of the server.
    pub addr: String,
    /// The tenant id.
    pub tenant: String,
    /// The SCIM bearer token.
    pub token: String,
    /// The server's pid (for `/proc`).
    pub server_pid: String,
    /// The postmaster's pid (for `/proc`).
    pub postmaster_pid: String,
    /// The key the server and the operator commands seal settings with.
    secret_key: String,
    binary: PathBuf,
    cluster: Option<LocalCluster>,
    server: Option<Child>,
}

impl Stack {
    /// Starts everything. `pool_size` is the server's `INSIGHTS_DB_POOL_SIZE`; `wrapper`, if
    /// not empty, is a profiler command line the server runs under (`perf record -g --`).
    pub fn start(binary: &Path, pool_size: u32, wrapper: &[String]) -> anyhow::Result<Self> {
        if !binary.is_file() {
            bail!(
                "{} is missing: build it first with `cargo build --release -p server` \
                 (and run the benchmark from the workspace root)",
                binary.display()
            );
        }
        let dir = make_temp_dir()?;
        let mut stack = Self {
            dir: dir.clone(),
            database_url: String::new(),
            addr: String::new(),
            tenant: String::new(),
            token: String::new(),
            server_pid: String::new(),
            postmaster_pid: String::new(),
            secret_key: tenancy::sealed::SecretKeys::generate_hex(),
            binary: binary.to_owned(),
            cluster: None,
            server: None,
        };
        // From here on, dropping `stack` cleans up whatever was started.
        eprintln!("starting a durable PostgreSQL cluster in {}", dir.display());
        let cluster = LocalCluster::open(&dir.join("pgdata"), Durability::Durable)
            .context("starting the PostgreSQL cluster")?;
        stack.database_url = cluster.database_url("postgres");
        stack.postmaster_pid = crate::procfs::postmaster_pid(cluster.data_dir())?;
        stack.cluster = Some(cluster);

        let port = free_port()?;
        stack.addr = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(dir.join("server.log"))?;
        let mut command = match wrapper.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(binary);
                command
            }
            None => Command::new(binary),
        };
        let child = command
            .arg("serve")
            .env("DATABASE_URL", &stack.database_url)
            .env("INSIGHTS_BIND", &stack.addr)
            .env("INSIGHTS_DATA_DIR", dir.join("unused"))
            .env("INSIGHTS_DB_POOL_SIZE", pool_size.to_string())
            .env("INSIGHTS_SECRET_KEY", &stack.secret_key)
            // The server's own maintenance keeps everything; the purge scenario purges itself.
            .env("INSIGHTS_EVENT_RETENTION_DAYS", "365")
            .env_remove("INSIGHTS_PUBLIC_URL")
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .context("starting insights serve")?;
        stack.server_pid = child.id().to_string();
        stack.server = Some(child);
        stack.wait_ready()?;
        if !wrapper.is_empty() {
            // Measure (and later stop) the server itself, not the profiler around it.
            // (valgrind runs the program in its own process: then the pid is already right.)
            if let Some(pid) = crate::procfs::descendant_named(&stack.server_pid, "insights") {
                stack.server_pid = pid;
            }
        }

        let created = stack.operator(&[
            "tenant",
            "create",
            "--name",
            "Bench",
            "--scim",
            "--openid-issuer",
            "https://idp.example/",
            "--openid-client-id",
            "bench",
            "--openid-client-secret",
            "bench-secret",
            "--json",
        ])?;
        stack.tenant = field(&created, "tenant_id")?;
        let token = stack.operator(&["token", "generate", "--tenant", &stack.tenant, "--json"])?;
        stack.token = field(&token, "token")?;
        Ok(stack)
    }

    /// The server log so far (last lines), for error messages.
    pub fn server_log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(server) = self.server.as_mut()
                && let Some(status) = server.try_wait()?
            {
                bail!(
                    "insights serve exited with {status}:\n{}",
                    self.server_log_tail()
                );
            }
            if ready(&self.addr) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "insights serve was not ready within 60 s:\n{}",
            self.server_log_tail()
        )
    }

    /// Runs an operator command of the same binary against the same database; its JSON output.
    pub fn operator(&self, args: &[&str]) -> anyhow::Result<serde_json::Value> {
        let output = Command::new(&self.binary)
            .args(args)
            .env("DATABASE_URL", &self.database_url)
            .env("INSIGHTS_BIND", &self.addr)
            .env("INSIGHTS_SECRET_KEY", &self.secret_key)
            .env("INSIGHTS_DATA_DIR", self.dir.join("unused"))
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("running insights {}", args.join(" ")))?;
        if !output.status.success() {
            bail!(
                "insights {} failed: {}",
                args.first().unwrap_or(&""),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let line = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .ok_or_else(|| anyhow!("insights printed no JSON: {stdout}"))?;
        Ok(serde_json::from_str(line)?)
    }

    fn stop_server(&mut self) {
        let Some(mut child) = self.server.take() else {
            return;
        };
        // SIGTERM by pid: the server drains its workers and the event writer, then exits
        // (under a profiler, the profiler then writes its data and exits too).
        let _ = Command::new("kill")
            .args(["-TERM", &self.server_pid])
            .status();
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if matches!(child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("insights serve did not stop within 120 s of SIGTERM; killing it");
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        self.stop_server();
        if let Some(mut cluster) = self.cluster.take()
            && let Err(e) = cluster.stop()
        {
            eprintln!("could not stop the PostgreSQL cluster: {e}");
        }
        if std::env::var_os("BENCH_KEEP_DIR").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!("kept {}", self.dir.display());
        }
    }
}

fn field(value: &serde_json::Value, name: &str) -> anyhow::Result<String> {
    value
        .get(name)
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no {name} in {value}"))
}

/// A fresh folder under /tmp that the `postgres` account can traverse (mode 755).
fn make_temp_dir() -> anyhow::Result<PathBuf> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("insights-bench-{}-{stamp}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755))?;
    Ok(dir)
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Whether `/readyz` answers 200 (a blocking one-shot request; start-up only).
fn ready(addr: &str) -> bool {
    use std::io::{Read as _, Write as _};
    let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 200")
}
