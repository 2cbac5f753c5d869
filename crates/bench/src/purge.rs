//! The purge scenario (`--purge N`): SCIM create latency at a given concurrency alone, and
//! again while the maintenance's purge removes N expired events (the same function the server
//! runs, `tenancy::maintenance::retention::purge_batch`, batch after batch with its pause). The
//! target of issue 12: the p99 during the purge stays within 2x of the p99 without it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use chrono::Utc;
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use reqwest::header::CONTENT_TYPE;
use tenancy::maintenance::Retention;
use tenancy::maintenance::retention::purge_batch;

use crate::fairness::percentiles;
use crate::seed;
use crate::stack::Stack;

/// Creates per worker in the measurement without a purge.
const CREATES_ALONE: usize = 150;
/// The pause between two purge transactions, as in the server.
const PAUSE: Duration = Duration::from_millis(50);

/// Seeds `events` expired events, measures creates at `concurrency` alone and during the purge.
pub async fn run(
    stack: &Stack,
    events: usize,
    concurrency: usize,
    batch: Option<i64>,
) -> anyhow::Result<String> {
    let mut conn = seed::connect(&stack.database_url)?;
    eprintln!("seeding {events} events 60 days old");
    conn.batch_execute(&format!(
        "INSERT INTO provisioning_events (tenant_id, occurred_at, method, path, status, resource_type, duration_us, operation) \
         SELECT '{t}', now() - interval '60 days' + g * interval '1 millisecond', 'GET', '/Users', 200, 'User', 900, 'lookup' \
         FROM generate_series(1, {events}) AS g",
        t = stack.tenant
    ))?;
    conn.batch_execute("VACUUM (ANALYZE) provisioning_events")?;

    let base = format!("http://{}/scim/v2/{}", stack.addr, stack.tenant);
    creates(&base, &stack.token, concurrency, "warm", Some(50), None).await?;
    let alone = creates(
        &base,
        &stack.token,
        concurrency,
        "alone",
        Some(CREATES_ALONE),
        None,
    )
    .await?;

    let done = Arc::new(AtomicBool::new(false));
    let url = stack.database_url.clone();
    let purge_done = done.clone();
    let purge = tokio::task::spawn_blocking(move || -> anyhow::Result<(usize, Duration)> {
        let mut conn = PgConnection::establish(&url)?;
        let retention = Retention {
            batch: batch.unwrap_or(Retention::default().batch),
            ..Retention::default()
        };
        let started = Instant::now();
        let mut removed = 0;
        loop {
            // `None`: the server's own maintenance holds the lock for a moment; try again.
            if let Some((purged, more)) = purge_batch(&mut conn, Utc::now(), retention)? {
                removed += purged.events;
                if !more {
                    break;
                }
            }
            std::thread::sleep(PAUSE);
        }
        purge_done.store(true, Ordering::Relaxed);
        Ok((removed, started.elapsed()))
    });
    // As many creates as without the purge, begun once it is under way, so that both see a
    // table of about the same size.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let during = creates(
        &base,
        &stack.token,
        concurrency,
        "during",
        Some(CREATES_ALONE),
        None,
    )
    .await?;
    let overlapped = !done.load(Ordering::Relaxed);
    let (removed, took) = purge.await??;
    if !overlapped {
        bail!("the purge ended before the creates did: seed more events");
    }
    if removed < events {
        bail!("the purge removed {removed} of {events} events");
    }

    let (a50, a99) = percentiles(alone.clone());
    let (d50, d99) = percentiles(during.clone());
    Ok(format!(
        "purge scenario: {removed} expired events removed in {:.1} s ({:.0} per second, batches of {} with a 50 ms pause)\n\
         | creates at C={concurrency} | requests | p50 ms | p99 ms |\n|---|---:|---:|---:|\n\
         | without a purge | {} | {a50:.2} | {a99:.2} |\n\
         | during the purge | {} | {d50:.2} | {d99:.2} |\n\
         p99 during / without: {:.2}x (target: at most 2x)",
        took.as_secs_f64(),
        removed as f64 / took.as_secs_f64().max(1e-9),
        batch.unwrap_or(Retention::default().batch),
        alone.len(),
        during.len(),
        d99 / a99.max(1e-9)
    ))
}

/// Creates from `concurrency` workers, each `per_worker` of them or until `until` is set;
/// their latencies in ms.
async fn creates(
    base: &str,
    token: &str,
    concurrency: usize,
    tag: &str,
    per_worker: Option<usize>,
    until: Option<Arc<AtomicBool>>,
) -> anyhow::Result<Vec<f64>> {
    let http = reqwest::Client::new();
    let mut workers = Vec::new();
    for worker in 0..concurrency.max(1) {
        let (http, base, token, until) = (
            http.clone(),
            base.to_owned(),
            token.to_owned(),
            until.clone(),
        );
        let tag = tag.to_owned();
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut n = 0;
            loop {
                if per_worker.is_some_and(|max| n >= max)
                    || until.as_ref().is_some_and(|u| u.load(Ordering::Relaxed))
                {
                    return Ok::<_, anyhow::Error>(latencies);
                }
                let body = format!(
                    r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"purge-{tag}-{worker}-{n}@bench.example","active":true}}"#
                );
                let started = Instant::now();
                let status = http
                    .post(format!("{base}/Users"))
                    .bearer_auth(&token)
                    .header(CONTENT_TYPE, "application/scim+json")
                    .body(body)
                    .send()
                    .await?
                    .status();
                latencies.push(started.elapsed().as_secs_f64() * 1000.0);
                if status.as_u16() != 201 {
                    return Err(anyhow!("create answered {status}"));
                }
                n += 1;
            }
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await??);
    }
    Ok(all)
}
