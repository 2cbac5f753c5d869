//! A private PostgreSQL cluster in a folder of our own: the zero-configuration database for
//! `insights serve` and for the test suites when no `DATABASE_URL` is given.
//!
//! The cluster is created with the PostgreSQL binaries installed on the machine, listens on
//! 127.0.0.1 only (no Unix socket), and requires a password that only we know. PostgreSQL
//! refuses to run as root, so when we are root the server runs as the `postgres` account.

use std::fs;
use std::net::TcpListener;
use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use rand::RngExt as _;
use rand::distr::Alphanumeric;

/// What went wrong with the cluster, in words (what failed and what to check).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Error(pub String);

/// The result of cluster work.
pub type Result<T> = std::result::Result<T, Error>;

/// A random password of `len` letters and digits.
fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The unprivileged account that runs PostgreSQL when we are root.
const SERVICE_ACCOUNT: &str = "postgres";

/// How the cluster trades durability for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Every commit is flushed to disk: for data that must survive a crash.
    Durable,
    /// No fsync at all: for throwaway test clusters only.
    Throwaway,
}

/// A running (or attached-to) private cluster.
#[derive(Debug)]
pub struct LocalCluster {
    data_dir: PathBuf,
    bin_dir: PathBuf,
    port: u16,
    password: String,
    run_as: Option<Account>,
    started_here: bool,
}

#[derive(Debug, Clone)]
struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

impl LocalCluster {
    /// Opens the cluster whose data lives in `data_dir`: creates it on first use, starts it if
    /// it is not running, or attaches to it if another process already started it.
    pub fn open(data_dir: &Path, durability: Durability) -> Result<Self> {
        let bin_dir = find_bin_dir()?;
        let run_as = if running_as_root() {
            Some(service_account()?)
        } else {
            None
        };
        let data_dir = absolute(data_dir)?;
        let password_file = password_file_for(&data_dir);
        if !data_dir.join("PG_VERSION").exists() {
            init_cluster(
                &bin_dir,
                &data_dir,
                &password_file,
                run_as.as_ref(),
                durability,
            )?;
        }
        let password = fs::read_to_string(&password_file)
            .map_err(|e| cluster_error(format!("cannot read {}: {e}", password_file.display())))?
            .trim()
            .to_owned();
        let mut cluster = Self {
            data_dir,
            bin_dir,
            port: 0,
            password,
            run_as,
            started_here: false,
        };
        match cluster.running_port()? {
            Some(port) => cluster.port = port,
            None => cluster.start(durability)?,
        }
        Ok(cluster)
    }

    /// A libpq URL for database `dbname` on this cluster, with its password.
    pub fn database_url(&self, dbname: &str) -> String {
        format!(
            "postgres://postgres:{}@127.0.0.1:{}/{dbname}",
            self.password, self.port
        )
    }

    /// The TCP port the cluster listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's data folder.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Whether this process started the server (rather than attaching to a running one).
    pub fn started_here(&self) -> bool {
        self.started_here
    }

    /// The shell command that stops this cluster, for a watchdog process that outlives us.
    pub fn stop_command(&self) -> Vec<String> {
        let mut argv = self.as_service_account();
        argv.extend([
            self.bin_dir.join("pg_ctl").display().to_string(),
            "-D".into(),
            self.data_dir.display().to_string(),
            "-m".into(),
            "fast".into(),
            "-w".into(),
            "stop".into(),
        ]);
        argv
    }

    /// Stops the server with a fast shutdown (open transactions roll back, data is kept).
    pub fn stop(&mut self) -> Result<()> {
        let argv = self.stop_command();
        run(&argv, "stop PostgreSQL")?;
        self.started_here = false;
        Ok(())
    }

    fn start(&mut self, durability: Durability) -> Result<()> {
        let port = free_port()?;
        let mut options = format!(
            "-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c max_connections=300"
        );
        if durability == Durability::Throwaway {
            options.push_str(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");
        }
        let mut argv = self.as_service_account();
        argv.extend([
            self.bin_dir.join("pg_ctl").display().to_string(),
            "-D".into(),
            self.data_dir.display().to_string(),
            "-l".into(),
            self.data_dir.join("server.log").display().to_string(),
            "-w".into(),
            "-t".into(),
            "60".into(),
            "-o".into(),
            options,
            "start".into(),
        ]);
        run(&argv, "start PostgreSQL").map_err(|e| {
            cluster_error(format!(
                "{e}\n(see {})",
                self.data_dir.join("server.log").display()
            ))
        })?;
        self.port = port;
        self.started_here = true;
        Ok(())
    }

    /// The port of the server running on this data folder, if one is running.
    fn running_port(&self) -> Result<Option<u16>> {
        let mut argv = self.as_service_account();
        argv.extend([
            self.bin_dir.join("pg_ctl").display().to_string(),
            "-D".into(),
            self.data_dir.display().to_string(),
            "status".into(),
        ]);
        let output = command(&argv)?;
        if !output.status.success() {
            return Ok(None);
        }
        // postmaster.pid: pid, data dir, start time, port, ... (one per line).
        let pid_file = fs::read_to_string(self.data_dir.join("postmaster.pid"))
            .map_err(|e| cluster_error(format!("cannot read postmaster.pid: {e}")))?;
        let port = pid_file
            .lines()
            .nth(3)
            .and_then(|line| line.trim().parse().ok());
        Ok(port)
    }

    fn as_service_account(&self) -> Vec<String> {
        as_account(self.run_as.as_ref())
    }
}

fn as_account(account: Option<&Account>) -> Vec<String> {
    match account {
        Some(account) => vec![
            "runuser".into(),
            "-u".into(),
            account.name.clone(),
            "--".into(),
        ],
        None => Vec::new(),
    }
}

fn init_cluster(
    bin_dir: &Path,
    data_dir: &Path,
    password_file: &Path,
    run_as: Option<&Account>,
    durability: Durability,
) -> Result<()> {
    fs::create_dir_all(data_dir)
        .map_err(|e| cluster_error(format!("cannot create {}: {e}", data_dir.display())))?;
    let password = random_alphanumeric(32);
    write_private(password_file, &password)?;
    // initdb reads the superuser's password from a file that the server's account can read.
    let init_password_file = data_dir.with_extension("initpw");
    write_private(&init_password_file, &password)?;
    if let Some(account) = run_as {
        check_traversable(data_dir, account)?;
        for path in [data_dir, init_password_file.as_path()] {
            std::os::unix::fs::chown(path, Some(account.uid), Some(account.gid)).map_err(|e| {
                cluster_error(format!(
                    "cannot hand {} to {}: {e}",
                    path.display(),
                    account.name
                ))
            })?;
        }
    }
    fs::set_permissions(data_dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| cluster_error(format!("cannot restrict {}: {e}", data_dir.display())))?;
    let mut argv = as_account(run_as);
    argv.extend([
        bin_dir.join("initdb").display().to_string(),
        "-D".into(),
        data_dir.display().to_string(),
        "-U".into(),
        "postgres".into(),
        "-A".into(),
        "scram-sha-256".into(),
        format!("--pwfile={}", init_password_file.display()),
        "-E".into(),
        "UTF8".into(),
        "--locale=C.UTF-8".into(),
    ]);
    if durability == Durability::Throwaway {
        argv.push("-N".into());
    }
    let result = run(&argv, "initialise a PostgreSQL cluster");
    let _ = fs::remove_file(&init_password_file);
    result
}

/// Runs `argv` and turns a failure into a message with the tool's own words.
fn run(argv: &[String], what: &str) -> Result<()> {
    let output = command(argv)?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let said = if stderr.trim().is_empty() {
        stdout.trim()
    } else {
        stderr.trim()
    };
    Err(cluster_error(format!("could not {what}: {said}")))
}

fn command(argv: &[String]) -> Result<Output> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| cluster_error("empty command".into()))?;
    Command::new(program)
        .args(args)
        // The server must not inherit our working directory (root's may be unreadable to it).
        .current_dir("/")
        .output()
        .map_err(|e| cluster_error(format!("cannot run {program}: {e}")))
}

/// Finds `initdb`, `pg_ctl` and `postgres`: on PATH first, then the newest
/// `/usr/lib/postgresql/*/bin`.
pub fn find_bin_dir() -> Result<PathBuf> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| dir.join(b).is_file())
    };
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            // A symlinked `initdb` on PATH points into the real bin folder with `postgres`.
            let resolved = fs::canonicalize(dir.join("initdb"))
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf));
            for candidate in [Some(dir.clone()), resolved].into_iter().flatten() {
                if has_all(&candidate) {
                    return Ok(candidate);
                }
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .filter(|(_, bin)| has_all(bin))
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).ok_or_else(|| {
        cluster_error(
            "no PostgreSQL server binaries found (looked for initdb, pg_ctl and postgres on PATH and in \
             /usr/lib/postgresql/*/bin). Install them (Debian/Ubuntu: `apt-get install postgresql`) \
             or set DATABASE_URL to an existing PostgreSQL database."
                .into(),
        )
    })
}

fn running_as_root() -> bool {
    fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false)
}

fn service_account() -> Result<Account> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id")
            .args([flag, SERVICE_ACCOUNT])
            .output()
            .ok()?;
        String::from_utf8(out.stdout).ok()?.trim().parse().ok()
    };
    match (id("-u"), id("-g")) {
        (Some(uid), Some(gid)) => Ok(Account {
            name: SERVICE_ACCOUNT.into(),
            uid,
            gid,
        }),
        _ => Err(cluster_error(format!(
            "PostgreSQL refuses to run as root and there is no `{SERVICE_ACCOUNT}` account to run it as. \
             Create one (`useradd --system {SERVICE_ACCOUNT}`), run as an ordinary user, or set DATABASE_URL."
        ))),
    }
}

/// The server's account must be able to walk down to its data folder.
fn check_traversable(data_dir: &Path, account: &Account) -> Result<()> {
    for ancestor in data_dir.ancestors().skip(1) {
        let Ok(meta) = fs::metadata(ancestor) else {
            continue;
        };
        let mode = meta.mode();
        let can_enter = mode & 0o001 != 0
            || (meta.gid() == account.gid && mode & 0o010 != 0)
            || (meta.uid() == account.uid && mode & 0o100 != 0);
        if !can_enter {
            return Err(cluster_error(format!(
                "PostgreSQL runs as the `{}` account, which cannot enter {}. Choose an INSIGHTS_DATA_DIR \
                 it can reach (for example under /var/lib), or set DATABASE_URL.",
                account.name,
                ancestor.display()
            )));
        }
    }
    Ok(())
}

fn write_private(path: &Path, contents: &str) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .and_then(|mut file| file.write_all(contents.as_bytes()))
        .map_err(|e| cluster_error(format!("cannot write {}: {e}", path.display())))
}

fn password_file_for(data_dir: &Path) -> PathBuf {
    data_dir.with_extension("password")
}

fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path)
        .map_err(|e| cluster_error(format!("bad data folder {}: {e}", path.display())))
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| cluster_error(format!("no free port on 127.0.0.1: {e}")))
}

fn cluster_error(message: String) -> Error {
    Error(message)
}
