//! Drives one phase at one concurrency: `concurrency` workers, each on its own keep-alive
//! connection, take the next request index from a shared counter until the phase's requests are
//! done (or its time is up). Around the phase it reads the CPU time of the server, of the
//! PostgreSQL cluster and of this process, and samples the server's resident memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::http::{Client, ClientKind, Request, Response, Target};
use crate::procfs;

/// The requests of a phase and how to judge each response.
pub trait Plan: Send + Sync + 'static {
    /// How many requests the phase sends.
    fn len(&self) -> usize;
    /// The `i`th request.
    fn request(&self, i: usize) -> Request;
    /// Whether the `i`th response is right; `Ok(Some(..))` hands a value (a new id) back.
    fn check(&self, i: usize, response: &Response) -> Result<Option<String>, String>;
    /// Whether paths are from the server's root rather than below the Tenant URL.
    fn rooted(&self) -> bool {
        false
    }
}

/// What every phase needs to know about the system under test.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Server address and token.
    pub target: Target,
    /// The Tenant URL's path, `/scim/v2/{tenant}`.
    pub base: String,
    /// Which HTTP client the workers use.
    pub client: ClientKind,
    /// The server's pid.
    pub server_pid: String,
    /// The postmaster's pid.
    pub postmaster_pid: String,
    /// `CLK_TCK`.
    pub ticks_per_second: u64,
    /// A phase stops sending after this long.
    pub phase_timeout: Duration,
}

/// The measurements of one phase at one concurrency.
#[derive(Debug, Clone, Default)]
pub struct Measure {
    /// Requests the phase was to send.
    pub requests: usize,
    /// Wrong status, wrong body, transport failures and requests not sent in time.
    pub errors: usize,
    /// The first few error messages.
    pub error_samples: Vec<String>,
    /// From the first request sent to the last response read.
    pub wall: Duration,
    /// Latency of each request by index, in microseconds (`u32::MAX`: not completed).
    pub latency_us: Vec<u32>,
    /// What `Plan::check` handed back, by index.
    pub captured: Vec<Option<String>>,
    /// CPU time of the server process during the phase.
    pub server_cpu: Duration,
    /// CPU time of the whole PostgreSQL cluster during the phase.
    pub db_cpu: Duration,
    /// CPU time of this process (the load generator) during the phase.
    pub client_cpu: Duration,
    /// The highest VmRSS of the server sampled during the phase, in kB.
    pub peak_rss_kb: u64,
    /// Share of all CPUs that were busy during the phase (0..=1).
    pub machine_busy: f64,
    /// CPU time used by everything else on the machine (other processes) during the phase.
    pub others_cpu: Duration,
}

impl Measure {
    /// Completed requests per second.
    pub fn rate(&self) -> f64 {
        let done = self.latency_us.iter().filter(|l| **l != u32::MAX).count();
        done as f64 / self.wall.as_secs_f64().max(1e-9)
    }

    /// The `p`th percentile latency (0..=100) in milliseconds.
    pub fn percentile_ms(&self, p: f64) -> f64 {
        let mut done: Vec<u32> = self
            .latency_us
            .iter()
            .copied()
            .filter(|l| *l != u32::MAX)
            .collect();
        if done.is_empty() {
            return f64::NAN;
        }
        done.sort_unstable();
        let rank = ((p / 100.0) * done.len() as f64).ceil() as usize;
        f64::from(done[rank.clamp(1, done.len()) - 1]) / 1000.0
    }

    /// Mean latency in milliseconds of the requests whose index satisfies `pick`.
    pub fn mean_ms_where(&self, pick: impl Fn(usize) -> bool) -> f64 {
        let chosen: Vec<f64> = self
            .latency_us
            .iter()
            .enumerate()
            .filter(|(i, l)| pick(*i) && **l != u32::MAX)
            .map(|(_, l)| f64::from(*l))
            .collect();
        chosen.iter().sum::<f64>() / chosen.len().max(1) as f64 / 1000.0
    }

    /// CPU per request in microseconds.
    pub fn per_request_us(&self, cpu: Duration) -> f64 {
        cpu.as_secs_f64() * 1e6 / self.requests.max(1) as f64
    }
}

/// One worker's results: (index, latency in us, outcome).
type Done = Vec<(usize, u32, Result<Option<String>, String>)>;

/// Runs `plan` with `concurrency` workers and measures it.
pub async fn run(ctx: &Ctx, plan: Arc<dyn Plan>, concurrency: usize) -> anyhow::Result<Measure> {
    let count = plan.len();
    let next = Arc::new(AtomicUsize::new(0));
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_rss(
        ctx.server_pid.clone(),
        Arc::clone(&stop_sampling),
    ));
    let server_before = procfs::cpu_ticks(&ctx.server_pid)?.own;
    let db_before = procfs::cluster_ticks(&ctx.postmaster_pid);
    let client_before = procfs::cpu_ticks("self")?.own;
    let machine_before = procfs::machine_ticks();
    let started = Instant::now();
    let deadline = started + ctx.phase_timeout;
    let mut workers = Vec::with_capacity(concurrency);
    for _ in 0..concurrency.max(1) {
        let plan = Arc::clone(&plan);
        let next = Arc::clone(&next);
        let mut client = Client::new(ctx.client, &ctx.target)?;
        let base = ctx.base.clone();
        workers.push(tokio::spawn(async move {
            let mut done: Done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= count || Instant::now() >= deadline {
                    break;
                }
                let mut request = plan.request(i);
                if !plan.rooted() {
                    request.path.insert_str(0, &base);
                }
                let sent = Instant::now();
                let result = client.send(&request).await;
                let latency = u32::try_from(sent.elapsed().as_micros()).unwrap_or(u32::MAX - 1);
                let outcome = match result {
                    Ok(response) => plan.check(i, &response),
                    Err(e) => Err(format!("{} {}: {e:#}", request.method, request.path)),
                };
                done.push((i, latency, outcome));
            }
            done
        }));
    }
    let mut measure = Measure {
        requests: count,
        latency_us: vec![u32::MAX; count],
        captured: vec![None; count],
        ..Measure::default()
    };
    for worker in workers {
        for (i, latency, outcome) in worker.await? {
            measure.latency_us[i] = latency;
            match outcome {
                Ok(value) => measure.captured[i] = value,
                Err(message) => {
                    measure.errors += 1;
                    if measure.error_samples.len() < 5 {
                        measure.error_samples.push(message);
                    }
                }
            }
        }
    }
    measure.wall = started.elapsed();
    let client_after = procfs::cpu_ticks("self")?.own;
    let machine_after = procfs::machine_ticks();
    let server_after = procfs::cpu_ticks(&ctx.server_pid)?.own;
    let db_after = procfs::cluster_ticks(&ctx.postmaster_pid);
    stop_sampling.store(true, Ordering::Relaxed);
    measure.peak_rss_kb = sampler.await.unwrap_or(0);
    let not_sent = measure
        .latency_us
        .iter()
        .filter(|l| **l == u32::MAX)
        .count();
    if not_sent > 0 {
        measure.errors += not_sent;
        measure.error_samples.push(format!(
            "{not_sent} requests not sent within the phase's time limit"
        ));
    }
    let tps = ctx.ticks_per_second;
    measure.server_cpu = procfs::ticks_to_duration(server_after.saturating_sub(server_before), tps);
    measure.db_cpu = procfs::ticks_to_duration(db_after.saturating_sub(db_before), tps);
    measure.client_cpu = procfs::ticks_to_duration(client_after.saturating_sub(client_before), tps);
    let busy = machine_after.0.saturating_sub(machine_before.0);
    measure.machine_busy =
        busy as f64 / machine_after.1.saturating_sub(machine_before.1).max(1) as f64;
    let ours = (server_after.saturating_sub(server_before))
        + db_after.saturating_sub(db_before)
        + client_after.saturating_sub(client_before);
    measure.others_cpu = procfs::ticks_to_duration(busy.saturating_sub(ours), tps);
    Ok(measure)
}

/// The highest VmRSS of `pid` seen every 20 ms until `stop`, in kB.
async fn sample_rss(pid: String, stop: Arc<AtomicBool>) -> u64 {
    let mut peak = 0;
    // Bounded: a phase is bounded by its timeout; this stops at most a day later regardless.
    for _ in 0..(24 * 3600 * 50) {
        peak = peak.max(procfs::status_kb(&pid, "VmRSS").unwrap_or(0));
        if stop.load(Ordering::Relaxed) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    peak
}
