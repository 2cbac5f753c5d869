//! The database's own limit: `pgbench` against the same database, tables and indexes, with the
//! same client counts, running the SQL of each phase (see [`crate::scripts`]).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};

use crate::procfs;

/// How long (or how much) pgbench runs.
#[derive(Debug, Clone, Copy)]
pub enum Length {
    /// `-T seconds`.
    Seconds(u64),
    /// `-t transactions` per client.
    Transactions(usize),
}

/// What pgbench reported, and the CPU it and the cluster used.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Transactions per second, without connection time.
    pub tps: f64,
    /// Average latency in milliseconds.
    pub latency_ms: f64,
    /// Transactions processed.
    pub transactions: u64,
    /// Failed transactions.
    pub failed: u64,
    /// CPU time of the whole PostgreSQL cluster during the run.
    pub db_cpu: Duration,
    /// CPU time of pgbench itself.
    pub client_cpu: Duration,
}

impl Outcome {
    /// Cluster CPU per transaction in microseconds.
    pub fn db_us_per_tx(&self) -> f64 {
        self.db_cpu.as_secs_f64() * 1e6 / (self.transactions.max(1)) as f64
    }
}

/// Runs pgbench and its clean-up facts.
pub struct Runner {
    /// The pgbench binary.
    pub binary: PathBuf,
    /// libpq URL (the password goes through the environment, not the command line).
    pub database_url: String,
    /// Where scripts are written.
    pub dir: PathBuf,
    /// The postmaster's pid.
    pub postmaster_pid: String,
    /// `CLK_TCK`.
    pub ticks_per_second: u64,
}

impl Runner {
    /// A runner using the pgbench of the cluster's PostgreSQL installation.
    pub fn new(database_url: &str, dir: &Path, postmaster_pid: &str) -> anyhow::Result<Self> {
        // The bin folder found may hold symlinks to the server binaries only: look next to
        // the real `postgres` too.
        let bin_dir = local_postgres::find_bin_dir()?;
        let real_dir = std::fs::canonicalize(bin_dir.join("postgres"))
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf));
        let binary = [Some(bin_dir.clone()), real_dir]
            .into_iter()
            .flatten()
            .map(|dir| dir.join("pgbench"))
            .find(|p| p.is_file())
            .ok_or_else(|| anyhow!("pgbench not found next to {}", bin_dir.display()))?;
        Ok(Self {
            binary,
            database_url: database_url.to_owned(),
            dir: dir.to_owned(),
            postmaster_pid: postmaster_pid.to_owned(),
            ticks_per_second: procfs::clock_ticks(),
        })
    }

    /// Runs `script` with `clients` clients (`-j min(clients, 2)`, `-M prepared`).
    pub fn run(
        &self,
        name: &str,
        script: &str,
        clients: usize,
        length: Length,
        defines: &[(&str, String)],
    ) -> anyhow::Result<Outcome> {
        let path = self.dir.join(format!("{name}.sql"));
        std::fs::write(&path, script)?;
        let (user, password, host, port, dbname) = split_url(&self.database_url)?;
        let mut command = Command::new(&self.binary);
        command
            .args(["-n", "-M", "prepared", "-c"])
            .arg(clients.to_string())
            .arg("-j")
            .arg(clients.clamp(1, 2).to_string());
        match length {
            Length::Seconds(s) => command.arg("-T").arg(s.to_string()),
            Length::Transactions(t) => command.arg("-t").arg(t.to_string()),
        };
        for (key, value) in defines {
            command.arg("-D").arg(format!("{key}={value}"));
        }
        command
            .arg("-f")
            .arg(&path)
            .arg(dbname)
            .env("PGUSER", user)
            .env("PGPASSWORD", password)
            .env("PGHOST", host)
            .env("PGPORT", port)
            .current_dir(&self.dir);
        let db_before = procfs::cluster_ticks(&self.postmaster_pid);
        let own_before = procfs::cpu_ticks("self")?.children;
        let output = command
            .output()
            .with_context(|| format!("running {}", self.binary.display()))?;
        // pgbench's backends exit after it does; their CPU reaches the postmaster's
        // children's time only once it has reaped them.
        std::thread::sleep(Duration::from_millis(300));
        let db_after = procfs::cluster_ticks(&self.postmaster_pid);
        let own_after = procfs::cpu_ticks("self")?.children;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            bail!(
                "pgbench {name} failed ({}):\n{stdout}\n{stderr}",
                output.status
            );
        }
        let mut outcome = parse(&stdout)
            .with_context(|| format!("reading pgbench {name} output:\n{stdout}\n{stderr}"))?;
        outcome.db_cpu =
            procfs::ticks_to_duration(db_after.saturating_sub(db_before), self.ticks_per_second);
        outcome.client_cpu =
            procfs::ticks_to_duration(own_after.saturating_sub(own_before), self.ticks_per_second);
        Ok(outcome)
    }
}

/// `postgres://user:password@host:port/dbname` into its parts.
fn split_url(url: &str) -> anyhow::Result<(&str, &str, &str, &str, &str)> {
    let rest = url
        .split_once("://")
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("not a URL"))?;
    let (credentials, location) = rest
        .rsplit_once('@')
        .ok_or_else(|| anyhow!("no credentials in the URL"))?;
    let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
    let (host_port, dbname) = location.split_once('/').unwrap_or((location, "postgres"));
    let (host, port) = host_port.rsplit_once(':').unwrap_or((host_port, "5432"));
    Ok((user, password, host, port, dbname))
}

fn parse(stdout: &str) -> anyhow::Result<Outcome> {
    // `-t` runs print "processed: 100/100": the number is what comes before any '/'.
    let number = |prefix: &str| -> Option<f64> {
        stdout
            .lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.split('/').next())
            .and_then(|v| v.parse().ok())
    };
    let tps = number("tps = ").ok_or_else(|| anyhow!("no tps line"))?;
    Ok(Outcome {
        tps,
        latency_ms: number("latency average = ").unwrap_or(f64::NAN),
        transactions: number("number of transactions actually processed: ").map_or(0, |n| n as u64),
        failed: number("number of failed transactions: ").map_or(0, |n| n as u64),
        ..Outcome::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_url_are_read() -> anyhow::Result<()> {
        let out = parse(
            "number of transactions actually processed: 1234/1234\nnumber of failed transactions: 0 (0.000%)\n\
             latency average = 1.234 ms\ntps = 810.5 (without initial connection time)\n",
        )?;
        assert_eq!(out.transactions, 1234);
        assert!((out.tps - 810.5).abs() < 1e-9);
        assert_eq!(
            split_url("postgres://postgres:pw@127.0.0.1:5433/postgres")?,
            ("postgres", "pw", "127.0.0.1", "5433", "postgres")
        );
        Ok(())
    }
}
