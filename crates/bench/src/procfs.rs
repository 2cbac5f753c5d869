//! CPU time and memory of processes, read from `/proc` (no extra crate, no `unsafe`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context as _, anyhow};

/// Clock ticks per second of `/proc/*/stat` times (`getconf CLK_TCK`, 100 on Linux).
pub fn clock_ticks() -> u64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|t| *t > 0)
        .unwrap_or(100)
}

/// The CPU fields of `/proc/<pid>/stat`, in ticks.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTicks {
    /// utime + stime of the process itself (all threads).
    pub own: u64,
    /// cutime + cstime: children that exited and were waited for.
    pub children: u64,
}

/// Reads `/proc/<pid>/stat` (`self` for this process).
pub fn cpu_ticks(pid: &str) -> anyhow::Result<CpuTicks> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("reading /proc/{pid}/stat"))?;
    // The command name may contain spaces: fields are counted after its closing parenthesis.
    let rest = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| anyhow!("malformed /proc/{pid}/stat"))?;
    let fields: Vec<u64> = rest
        .split_whitespace()
        .skip(1) // state
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // After `state`: ppid(0) pgrp session tty tpgid flags minflt cminflt majflt cmajflt
    // utime(10) stime(11) cutime(12) cstime(13).
    let get = |i: usize| fields.get(i).copied().unwrap_or(0);
    Ok(CpuTicks {
        own: get(10) + get(11),
        children: get(12) + get(13),
    })
}

/// Busy and total ticks of all CPUs together (first line of `/proc/stat`); idle and iowait
/// count as not busy.
pub fn machine_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = text
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .take(8)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let total: u64 = fields.iter().sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// The parent pid of a process.
fn parent_of(pid: &str) -> Option<String> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = text.rsplit_once(')')?.1;
    rest.split_whitespace().nth(1).map(str::to_owned)
}

/// The first process below `ancestor` (at any depth) whose command name is `name`.
pub fn descendant_named(ancestor: &str, name: &str) -> Option<String> {
    let entries = std::fs::read_dir("/proc").ok()?;
    let pids: Vec<String> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .collect();
    pids.into_iter().find(|pid| {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() != name {
            return false;
        }
        // Walk up at most 16 generations.
        let mut current = pid.clone();
        for _ in 0..16 {
            match parent_of(&current) {
                Some(parent) if parent == ancestor => return true,
                Some(parent) if parent != "0" && parent != "1" => current = parent,
                _ => return false,
            }
        }
        false
    })
}

/// Total CPU ticks of a PostgreSQL cluster: the postmaster, the backends it reaped, and every
/// live child (backends, checkpointer, WAL writer, autovacuum...).
pub fn cluster_ticks(postmaster: &str) -> u64 {
    let mut total = cpu_ticks(postmaster)
        .map(|t| t.own + t.children)
        .unwrap_or(0);
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return total;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str() else { continue };
        if !pid.bytes().all(|b| b.is_ascii_digit()) || pid == postmaster {
            continue;
        }
        if parent_of(pid).as_deref() == Some(postmaster) {
            total += cpu_ticks(pid).map(|t| t.own).unwrap_or(0);
        }
    }
    total
}

/// The postmaster's pid, from the first line of `postmaster.pid` in the data folder.
pub fn postmaster_pid(data_dir: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(data_dir.join("postmaster.pid"))
        .context("reading postmaster.pid")?;
    text.lines()
        .next()
        .map(|l| l.trim().to_owned())
        .filter(|l| !l.is_empty())
        .ok_or_else(|| anyhow!("empty postmaster.pid"))
}

/// A `kB` field of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in kB.
pub fn status_kb(pid: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
}

/// Ticks to a duration.
pub fn ticks_to_duration(ticks: u64, per_second: u64) -> Duration {
    Duration::from_micros(ticks.saturating_mul(1_000_000) / per_second.max(1))
}

/// Total memory of the machine in MiB (`MemTotal` of `/proc/meminfo`).
pub fn mem_total_mib() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map(|kb| kb / 1024)
}

/// The CPU model name (first `model name` of `/proc/cpuinfo`).
pub fn cpu_model() -> Option<String> {
    let text = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|v| v.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_has_cpu_and_memory() -> anyhow::Result<()> {
        let _ = cpu_ticks("self")?;
        assert!(status_kb("self", "VmRSS").is_some_and(|kb| kb > 0));
        Ok(())
    }
}
