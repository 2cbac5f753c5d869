//! The refusal path: what counting a refused request for its tenant's console costs. Wrong
//! tokens at one concurrency for three kinds of URL — a tenant id that is not a UUID (refused
//! without being counted: the path as it was before refusals were recorded), the real tenant
//! (counted, and stored once a second), and a UUID no tenant has (counted in memory, left out
//! when stored) — beside the `/healthz` baseline, with the server's CPU per request. Then what
//! reached `rejected_requests`: one row per minute and reason for the real tenant, none for
//! the unknown one.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::http::{Request, Response, Target};
use crate::runner::{self, Ctx, Measure, Plan};
use crate::stack::Stack;
use crate::{phases, procfs, seed};

/// A wrong token sent to `path` (from the server's root).
struct Refused {
    count: usize,
    path: String,
}

impl Plan for Refused {
    fn len(&self) -> usize {
        self.count
    }

    fn request(&self, _: usize) -> Request {
        Request {
            method: "GET",
            path: self.path.clone(),
            body: None,
        }
    }

    fn check(&self, _: usize, response: &Response) -> Result<Option<String>, String> {
        // 401 until the client address has failed too often, 429 after: both are refusals.
        match response.status {
            401 | 429 => Ok(None),
            other => Err(format!("a wrong token was answered {other}")),
        }
    }

    fn rooted(&self) -> bool {
        true
    }
}

#[derive(QueryableByName)]
struct Stored {
    #[diesel(sql_type = BigInt)]
    rows: i64,
    #[diesel(sql_type = BigInt)]
    requests: i64,
}

/// Runs the scenario with `count` requests per kind at `concurrency`.
pub async fn run(stack: &Stack, count: usize, concurrency: usize) -> anyhow::Result<String> {
    let ctx = Ctx {
        target: Target {
            addr: stack.addr.clone(),
            token: format!("scim_{}", "x".repeat(43)),
        },
        base: format!("/scim/v2/{}", stack.tenant),
        client: crate::http::ClientKind::Raw,
        server_pid: stack.server_pid.clone(),
        postmaster_pid: stack.postmaster_pid.clone(),
        ticks_per_second: procfs::clock_ticks(),
        phase_timeout: Duration::from_secs(120),
    };
    let nobody = uuid::Uuid::new_v4();
    let kinds = [
        ("/healthz (no authentication)", None),
        (
            "wrong token, tenant id not a UUID (not counted)",
            Some("/scim/v2/not-a-tenant/Users".to_owned()),
        ),
        (
            "wrong token, the tenant's URL (counted and stored)",
            Some(format!("/scim/v2/{}/Users", stack.tenant)),
        ),
        (
            "wrong token, a tenant id nobody has (counted, not stored)",
            Some(format!("/scim/v2/{nobody}/Users")),
        ),
    ];
    let mut out = String::new();
    writeln!(
        out,
        "Refused requests: {count} per kind at concurrency {concurrency}, one client address \
         (so most are throttled: 429 after the first failures, as a flood would be).\n"
    )?;
    writeln!(
        out,
        "| kind | req/s | p50 ms | p99 ms | server CPU µs/request |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|")?;
    for (name, path) in kinds {
        let plan: Arc<dyn Plan> = match path {
            None => Arc::new(phases::Health { count }),
            Some(path) => Arc::new(Refused { count, path }),
        };
        // One warm-up round, then the measured one.
        runner::run(&ctx, Arc::clone(&plan), concurrency).await?;
        let m: Measure = runner::run(&ctx, plan, concurrency).await?;
        if m.errors > 0 {
            anyhow::bail!(
                "{name}: {} errors, first {:?}",
                m.errors,
                m.error_samples.first()
            );
        }
        writeln!(
            out,
            "| {name} | {:.0} | {:.2} | {:.2} | {:.1} |",
            m.rate(),
            m.percentile_ms(50.0),
            m.percentile_ms(99.0),
            m.per_request_us(m.server_cpu),
        )?;
    }
    // Past the writer's next flush.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut conn = seed::connect(&stack.database_url)?;
    let stored = |tenant: String, conn: &mut diesel::PgConnection| -> anyhow::Result<Stored> {
        Ok(diesel::sql_query(
            "SELECT count(*) AS rows, coalesce(sum(requests), 0)::bigint AS requests \
             FROM rejected_requests WHERE tenant_id = $1::uuid",
        )
        .bind::<Text, _>(tenant)
        .get_result(conn)?)
    };
    let mine = stored(stack.tenant.clone(), &mut conn)?;
    let unknown = stored(nobody.to_string(), &mut conn)?;
    writeln!(
        out,
        "\nStored for the tenant: {} rows for {} refused requests (one per minute and reason); \
         for the tenant id nobody has: {} rows.",
        mine.rows, mine.requests, unknown.rows
    )?;
    Ok(out)
}
