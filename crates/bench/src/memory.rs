//! The memory scenario (`--memory`): the server's peak resident memory while an admin imports a
//! large CSV file through the console and, at the same time, an identity provider sends SCIM
//! bodies of the 4 MiB limit at a given concurrency. Prints the figures; the defence-in-depth
//! target is a peak under 200 MiB for a 50 MiB file and 4 MiB bodies at concurrency 16.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use reqwest::header::CONTENT_TYPE;

use crate::admin::Admin;
use crate::procfs;
use crate::stack::Stack;

/// What the scenario sends.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Size of the CSV file, in MiB.
    pub csv_mib: usize,
    /// Concurrent SCIM clients.
    pub concurrency: usize,
    /// Large bodies each client sends.
    pub bodies_per_client: usize,
}

/// What was measured.
#[derive(Debug)]
pub struct Figures {
    /// Peak resident memory of the server (VmHWM), MiB.
    pub peak_mib: f64,
    /// Resident memory at the start and at the end, MiB.
    pub start_mib: f64,
    /// Resident memory once everything was done.
    pub end_mib: f64,
    /// Bytes of the CSV file and its rows.
    pub csv_bytes: usize,
    /// Rows in the file.
    pub rows: usize,
    /// Time until the upload was accepted.
    pub upload: Duration,
    /// Time until the import finished.
    pub import: Duration,
    /// Large SCIM bodies sent and the statuses they got.
    pub bodies: usize,
    /// `status: count`.
    pub statuses: String,
    /// Wall time of the bodies.
    pub bodies_took: Duration,
}

impl std::fmt::Display for Figures {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "memory scenario:")?;
        writeln!(
            f,
            "  CSV file:           {:.1} MiB, {} rows; upload accepted in {:.1} s, import finished after {:.1} s",
            self.csv_bytes as f64 / 1_048_576.0,
            self.rows,
            self.upload.as_secs_f64(),
            self.import.as_secs_f64()
        )?;
        writeln!(
            f,
            "  SCIM bodies:        {} of 4 MiB in {:.1} s, answered {}",
            self.bodies,
            self.bodies_took.as_secs_f64(),
            self.statuses
        )?;
        writeln!(
            f,
            "  server RSS:         {:.1} MiB at start, peak (VmHWM) {:.1} MiB, {:.1} MiB at the end",
            self.start_mib, self.peak_mib, self.end_mib
        )
    }
}

/// Runs the scenario against a started stack.
pub async fn run(stack: &Stack, plan: Plan) -> anyhow::Result<Figures> {
    let rss = |field: &str| {
        procfs::status_kb(&stack.server_pid, field).map_or(0.0, |kb| kb as f64 / 1024.0)
    };
    let start_mib = rss("VmRSS");
    let admin = Admin::sign_in(stack, "Memory", "memory@bench.example").await?;
    let (csv, rows) = csv_file(plan.csv_mib * 1_048_576);
    let csv_bytes = csv.len();
    let group = create_group(stack).await?;

    let started = Instant::now();
    let upload = {
        let admin = admin.clone();
        tokio::spawn(async move { admin.upload(csv).await })
    };
    let statuses = Arc::new(std::sync::Mutex::new(std::collections::BTreeMap::<
        u16,
        usize,
    >::new()));
    let body = Arc::new(members_body(4 * 1024 * 1024 - 1024));
    let mut clients = Vec::new();
    for _ in 0..plan.concurrency.max(1) {
        let (stack_addr, token, base) = (
            stack.addr.clone(),
            stack.token.clone(),
            format!("/scim/v2/{}/Groups/{group}", stack.tenant),
        );
        let (body, statuses) = (body.clone(), statuses.clone());
        let count = plan.bodies_per_client;
        clients.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for _ in 0..count {
                let status = http
                    .patch(format!("http://{stack_addr}{base}"))
                    .bearer_auth(&token)
                    .header(CONTENT_TYPE, "application/scim+json")
                    .body(body.as_ref().clone())
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                if let Ok(mut statuses) = statuses.lock() {
                    *statuses.entry(status).or_default() += 1;
                }
            }
        }));
    }
    for client in clients {
        client.await?;
    }
    let bodies_took = started.elapsed();
    let job = upload.await??;
    let upload_took = job.1;
    admin.wait_for(&job.0, Duration::from_secs(600)).await?;
    let import = started.elapsed();
    let statuses = statuses
        .lock()
        .map_err(|_| anyhow!("status counts"))?
        .iter()
        .fold(String::new(), |mut out, (status, n)| {
            let _ = write!(
                out,
                "{}{status}: {n}",
                if out.is_empty() { "" } else { ", " }
            );
            out
        });
    Ok(Figures {
        peak_mib: rss("VmHWM"),
        start_mib,
        end_mib: rss("VmRSS"),
        csv_bytes,
        rows,
        upload: upload_took,
        import,
        bodies: plan.concurrency.max(1) * plan.bodies_per_client,
        statuses,
        bodies_took,
    })
}

/// A users file of about `bytes`: up to the import's row limit, each row padded to fit.
fn csv_file(bytes: usize) -> (Vec<u8>, usize) {
    const MAX_ROWS: usize = 200_000;
    let header = "userName,givenName,familyName,email,displayName\n";
    let rows = MAX_ROWS.min(bytes / 60).max(1);
    let per_row = (bytes.saturating_sub(header.len()) / rows).max(60);
    let mut out = Vec::with_capacity(bytes + 1024);
    out.extend_from_slice(header.as_bytes());
    for n in 0..rows {
        let start = format!("memory-{n}@bench.example,Mem{n},Ory,memory-{n}@mail.example,");
        out.extend_from_slice(start.as_bytes());
        out.extend(std::iter::repeat_n(
            b'x',
            per_row.saturating_sub(start.len() + 1),
        ));
        out.push(b'\n');
    }
    (out, rows)
}

/// A PATCH adding random (unknown) members, about `bytes` long: the server parses it whole,
/// then refuses the unknown members, which is what a large body costs in memory.
fn members_body(bytes: usize) -> String {
    let mut body = String::with_capacity(bytes + 256);
    body.push_str(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":["#);
    let mut first = true;
    while body.len() + 60 < bytes {
        if !first {
            body.push(',');
        }
        first = false;
        let _ = write!(body, r#"{{"value":"{}"}}"#, uuid::Uuid::new_v4());
    }
    body.push_str("]}]}");
    body
}

async fn create_group(stack: &Stack) -> anyhow::Result<String> {
    let created: serde_json::Value = reqwest::Client::new()
        .post(format!(
            "http://{}/scim/v2/{}/Groups",
            stack.addr, stack.tenant
        ))
        .bearer_auth(&stack.token)
        .header(CONTENT_TYPE, "application/scim+json")
        .body(
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Memory"}"#,
        )
        .send()
        .await?
        .json()
        .await?;
    created["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow!("no group id in {created}"))
}
