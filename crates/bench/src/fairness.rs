//! The fairness scenario (`--fairness`): one tenant's lookup latency alone, and again while
//! another tenant pushes creates at a high concurrency. With each tenant's share of the pool
//! (`INSIGHTS_DB_TENANT_SHARE`) the quiet tenant's p99 should stay within 3x of its unloaded
//! p99. Prints the figures.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use reqwest::header::CONTENT_TYPE;

use crate::stack::Stack;

/// What was measured.
#[derive(Debug)]
pub struct Figures {
    /// The busy tenant's concurrency.
    pub concurrency: usize,
    /// The quiet tenant's latencies alone: p50, p99 (ms).
    pub alone: (f64, f64),
    /// The same while the busy tenant pushes.
    pub loaded: (f64, f64),
    /// The busy tenant's creates per second meanwhile, and how many failed.
    pub busy_rate: f64,
    /// Failed requests of the busy tenant.
    pub busy_errors: usize,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "fairness scenario:")?;
        writeln!(
            f,
            "  quiet tenant, alone:            p50 {:.2} ms, p99 {:.2} ms",
            self.alone.0, self.alone.1
        )?;
        writeln!(
            f,
            "  quiet tenant, busy one at C={}: p50 {:.2} ms, p99 {:.2} ms ({:.1}x the p99 alone)",
            self.concurrency,
            self.loaded.0,
            self.loaded.1,
            self.loaded.1 / self.alone.1.max(1e-9)
        )?;
        writeln!(
            f,
            "  busy tenant meanwhile:          {:.0} creates/s, {} failed",
            self.busy_rate, self.busy_errors
        )
    }
}

/// Lookups the quiet tenant sends in each half.
const LOOKUPS: usize = 800;

/// Runs the scenario: the stack's tenant is the busy one; a second tenant is the quiet one.
pub async fn run(stack: &Stack, concurrency: usize) -> anyhow::Result<Figures> {
    let quiet = stack.operator(&[
        "tenant",
        "create",
        "--name",
        "Quiet",
        "--scim",
        "--openid-issuer",
        "https://idp.example/",
        "--openid-client-id",
        "quiet",
        "--openid-client-secret",
        "quiet-secret",
        "--json",
    ])?;
    let quiet_tenant = quiet["tenant_id"]
        .as_str()
        .ok_or_else(|| anyhow!("no tenant id in {quiet}"))?
        .to_owned();
    let token = stack.operator(&["token", "generate", "--tenant", &quiet_tenant, "--json"])?;
    let quiet_token = token["token"]
        .as_str()
        .ok_or_else(|| anyhow!("no token in {token}"))?
        .to_owned();
    let quiet = Tenant {
        base: format!("http://{}/scim/v2/{quiet_tenant}", stack.addr),
        token: quiet_token,
    };
    for n in 0..50 {
        quiet.create(&format!("quiet-{n}@bench.example")).await?;
    }
    quiet.lookups(LOOKUPS / 4).await?; // warm-up
    let alone = percentiles(quiet.lookups(LOOKUPS).await?);

    let busy = Tenant {
        base: format!("http://{}/scim/v2/{}", stack.addr, stack.tenant),
        token: stack.token.clone(),
    };
    let stop = Arc::new(AtomicBool::new(false));
    let (created, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut pushers = Vec::new();
    for worker in 0..concurrency.max(1) {
        let (busy, stop, created, failed) =
            (busy.clone(), stop.clone(), created.clone(), failed.clone());
        pushers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                match busy
                    .create(&format!("busy-{worker}-{n}@bench.example"))
                    .await
                {
                    Ok(()) => created.fetch_add(1, Ordering::Relaxed),
                    Err(_) => failed.fetch_add(1, Ordering::Relaxed),
                };
                n += 1;
            }
        }));
    }
    // Let the burst take hold before measuring.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = created.load(Ordering::Relaxed);
    let started = Instant::now();
    let loaded = percentiles(quiet.lookups(LOOKUPS).await?);
    let busy_rate =
        (created.load(Ordering::Relaxed) - before) as f64 / started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for pusher in pushers {
        pusher.await?;
    }
    Ok(Figures {
        concurrency,
        alone,
        loaded,
        busy_rate,
        busy_errors: failed.load(Ordering::Relaxed),
    })
}

/// One tenant's SCIM base and token.
#[derive(Clone)]
struct Tenant {
    base: String,
    token: String,
}

impl Tenant {
    async fn create(&self, user_name: &str) -> anyhow::Result<()> {
        let body = format!(
            r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"{user_name}","active":true}}"#
        );
        let status = client()
            .post(format!("{}/Users", self.base))
            .bearer_auth(&self.token)
            .header(CONTENT_TYPE, "application/scim+json")
            .body(body)
            .send()
            .await?
            .status();
        if status.as_u16() != 201 {
            bail!("create answered {status}");
        }
        Ok(())
    }

    /// `count` sequential lookups by userName on one connection; their latencies in ms.
    async fn lookups(&self, count: usize) -> anyhow::Result<Vec<f64>> {
        let http = client();
        let mut latencies = Vec::with_capacity(count);
        for i in 0..count {
            let filter = format!("userName eq \"quiet-{}@bench.example\"", i % 50);
            let started = Instant::now();
            let status = http
                .get(format!("{}/Users", self.base))
                .query(&[("filter", filter)])
                .bearer_auth(&self.token)
                .send()
                .await?
                .status();
            latencies.push(started.elapsed().as_secs_f64() * 1000.0);
            if status.as_u16() != 200 {
                bail!("lookup answered {status}");
            }
        }
        Ok(latencies)
    }
}

/// A keep-alive client shared by a tenant's sequential requests.
fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT.get_or_init(reqwest::Client::new).clone()
}

/// The p50 and p99 of latencies in ms.
pub fn percentiles(mut latencies: Vec<f64>) -> (f64, f64) {
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).copied().unwrap_or(0.0)
    };
    (at(0.50), at(0.99))
}
