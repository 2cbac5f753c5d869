//! One concurrency level: phases A–F (and the /healthz baseline) against the server, then the
//! same work through pgbench with the same number of clients, then a reset so that the next
//! level starts from the same kind of table.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::{Context as _, anyhow, bail};
use tenancy::PgConnection;
use uuid::Uuid;

use crate::http::{Client, Request};
use crate::okta;
use crate::pgbench::{self, Length};
use crate::phases::{self, PAGE};
use crate::report::{Level, Row};
use crate::runner::{self, Ctx, Measure, Plan};
use crate::scripts::{self, Facts};
use crate::seed;

/// What every level shares.
pub struct Setup<'a> {
    /// The load generator's context.
    pub ctx: &'a Ctx,
    /// A direct connection for set-up and checks.
    pub conn: &'a mut PgConnection,
    /// Runs pgbench (None: skipped).
    pub pgbench: Option<&'a pgbench::Runner>,
    /// What the scripts embed.
    pub facts: &'a Facts,
    /// The tenant.
    pub tenant: Uuid,
    /// Users A creates per level.
    pub users: usize,
    /// Members E pushes.
    pub members: usize,
    /// F requests (and /healthz baseline requests).
    pub f_requests: usize,
    /// pgbench -T for time-based runs.
    pub pgbench_seconds: u64,
    /// The phases to run (letters A–F; B and C bring A along).
    pub phases: String,
}

impl Setup<'_> {
    fn wants(&self, phase: char) -> bool {
        self.phases.contains(phase)
            || (phase == 'A' && (self.phases.contains('B') || self.phases.contains('C')))
    }
}

/// Runs one level.
pub async fn run(setup: &mut Setup<'_>, concurrency: usize) -> anyhow::Result<Level> {
    let ctx = setup.ctx;
    let c = concurrency;
    seed::reset_between_levels(setup.conn, setup.tenant)?;
    let mut level = Level {
        concurrency: c,
        ..Level::default()
    };
    let say = |phase: &str, m: &Measure| {
        eprintln!(
            "  C={c:<3} {phase}: {:>6} requests  {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  errors {}{}",
            m.requests,
            m.rate(),
            m.percentile_ms(50.0),
            m.percentile_ms(99.0),
            m.errors,
            m.error_samples
                .first()
                .map_or(String::new(), |e| format!("  first: {e}"))
        );
    };

    let warm_up = phases::WarmUp {
        count: (25 * c).max(200),
        members: setup.members,
    };
    let warmed = runner::run(ctx, Arc::new(warm_up), c).await?;
    if warmed.errors > 0 {
        bail!("the warm-up failed: {:?}", warmed.error_samples);
    }

    let mut rows = Vec::new();
    let mut total = 0;
    if setup.wants('A') {
        // A: create.
        let prefix = format!("bench-c{c}");
        let before = batching(ctx, "creates").await?;
        let a = runner::run(
            ctx,
            Arc::new(phases::Create {
                prefix: prefix.clone(),
                count: setup.users,
            }),
            c,
        )
        .await?;
        say("A", &a);
        let after = batching(ctx, "creates").await?;
        level.a_batches = per_batch(before, after);
        let created: Vec<(usize, String)> = a
            .captured
            .iter()
            .enumerate()
            .filter_map(|(i, id)| id.clone().map(|id| (i, id)))
            .collect();
        rows.push(row("A", a));
        if setup.wants('B') {
            let before = batching(ctx, "lookups").await?;
            let b = runner::run(
                ctx,
                Arc::new(phases::Lookup {
                    prefix: prefix.clone(),
                    users: created.clone(),
                }),
                c,
            )
            .await?;
            say("B", &b);
            let after = batching(ctx, "lookups").await?;
            level.b_batches = per_batch(before, after);
            rows.push(row("B", b));
        }
        if setup.wants('C') {
            let deactivate = phases::Deactivate {
                prefix,
                users: created,
                body: okta::deactivate_body(),
            };
            let before = batching(ctx, "active_changes").await?;
            let cm = runner::run(ctx, Arc::new(deactivate), c).await?;
            say("C", &cm);
            let after = batching(ctx, "active_changes").await?;
            level.c_batches = per_batch(before, after);
            rows.push(row("C", cm));
        }
    }
    if setup.wants('D') {
        // D: walk every page, enough times that each worker has several pages to read.
        total = seed::count_users(setup.conn, setup.tenant)?;
        let pages = total.div_ceil(PAGE).max(1);
        let passes = (8 * c).max(100).div_ceil(pages).max(1);
        let walk = Arc::new(phases::Pages { total, passes });
        let d = runner::run(ctx, walk.clone(), c).await?;
        say("D", &d);
        level.d_total = total;
        level.d_first_last_ms = (
            d.mean_ms_where(|i| walk.page_of(i) == 0),
            d.mean_ms_where(|i| walk.page_of(i) == pages - 1),
        );
        rows.push(row("D", d));
    }
    if setup.wants('E') {
        rows.push(push_members(setup, &mut level, c, &say).await?);
    }
    if setup.wants('F') {
        // F: authentication alone, and the unauthenticated baseline.
        let h = runner::run(
            ctx,
            Arc::new(phases::Health {
                count: setup.f_requests,
            }),
            c,
        )
        .await?;
        say("H", &h);
        let f = runner::run(
            ctx,
            Arc::new(phases::Config {
                count: setup.f_requests,
            }),
            c,
        )
        .await?;
        say("F", &f);
        rows.push(row("F", f));
        rows.push(row("H", h));
    }
    if let Some(pg) = setup.pgbench {
        // Fresh statistics, as autovacuum would have them by now: pgbench's prepared
        // statements switch to generic plans, which stale statistics can make slow.
        seed::analyze(setup.conn)?;
        database_limit(setup, pg, c, total, &mut rows)?;
    }
    level.rows = rows;
    Ok(level)
}

/// E: one group, members in batches of 100, then read it back.
async fn push_members(
    setup: &mut Setup<'_>,
    level: &mut Level,
    c: usize,
    say: &impl Fn(&str, &Measure),
) -> anyhow::Result<Row> {
    let ctx = setup.ctx;
    let group = create_group(ctx, &format!("bench-group-c{c}")).await?;
    let ids = seed::member_ids(setup.conn, setup.members)?;
    let members: Vec<(String, String)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.clone(), seed::member_name(i + 1)))
        .collect();
    let e = runner::run(
        ctx,
        Arc::new(phases::AddMembers {
            group: group.clone(),
            members,
        }),
        c,
    )
    .await?;
    say("E", &e);
    let get = runner::run(
        ctx,
        Arc::new(phases::GroupMembers {
            group: group.clone(),
            expected: ids.into_iter().collect::<HashSet<_>>(),
        }),
        1,
    )
    .await?;
    let listed = get.captured[0]
        .as_deref()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let stored = seed::count_members(setup.conn, setup.tenant, group.parse()?)?;
    level.e_members = (listed, stored, setup.members);
    level.e_get = (get.percentile_ms(50.0), get.errors == 0);
    if get.errors > 0 {
        eprintln!("  C={c:<3} E: group read: {:?}", get.error_samples);
    }
    Ok(row("E", e))
}

fn row(phase: &'static str, measure: Measure) -> Row {
    Row {
        phase,
        measure,
        bare: None,
        server_sql: None,
    }
}

/// The same work through pgbench, with `c` clients. A runs last: its rows are deleted by the
/// next level's reset, and D must see the same table the server walked.
fn database_limit(
    setup: &mut Setup<'_>,
    pg: &pgbench::Runner,
    c: usize,
    total: usize,
    rows: &mut [Row],
) -> anyhow::Result<()> {
    let f = setup.facts;
    let timed = Length::Seconds(setup.pgbench_seconds);
    let members = [("members", setup.members.to_string())];
    let total = if total == 0 {
        seed::count_users(setup.conn, setup.tenant)?
    } else {
        total
    };
    let maxoff = [("maxoff", total.saturating_sub(PAGE).to_string())];
    let batches = setup.members.div_ceil(PAGE);
    let per_client = batches.div_ceil(c.max(1));
    let numbering = [("n", "-1".to_owned()), ("clients", c.to_string())];
    let mut put = |phase: &str, bare: pgbench::Outcome, server: pgbench::Outcome| {
        eprintln!(
            "  C={c:<3} {phase} pgbench: bare {:>8.0} tps, server SQL {:>8.0} tps",
            bare.tps, server.tps
        );
        if let Some(r) = rows.iter_mut().find(|r| r.phase == phase) {
            r.bare = Some(bare);
            r.server_sql = Some(server);
        }
    };
    let name = |s: &str| format!("{s}-c{c}");
    let only = |phase: char| setup.phases.contains(phase);
    if only('B') {
        put(
            "B",
            pg.run(&name("b-bare"), &scripts::b_bare(f), c, timed, &members)?,
            pg.run(&name("b-server"), &scripts::b_server(f), c, timed, &members)?,
        );
    }
    if only('C') {
        put(
            "C",
            pg.run(&name("c-bare"), &scripts::c_bare(f), c, timed, &members)?,
            pg.run(&name("c-server"), &scripts::c_server(f), c, timed, &members)?,
        );
    }
    if only('D') {
        put(
            "D",
            pg.run(&name("d-bare"), &scripts::d_bare(f), c, timed, &maxoff)?,
            pg.run(&name("d-server"), &scripts::d_server(f), c, timed, &maxoff)?,
        );
    }
    if only('E') {
        let g_bare = seed::create_group(setup.conn, setup.tenant, &name("pgbench-bare"))?;
        let g_server = seed::create_group(setup.conn, setup.tenant, &name("pgbench-server"))?;
        let e_bare = pg.run(
            &name("e-bare"),
            &scripts::e_bare(f, &g_bare.to_string()),
            c,
            Length::Transactions(per_client),
            &numbering,
        )?;
        let e_server = pg.run(
            &name("e-server"),
            &scripts::e_server(f, &g_server.to_string()),
            c,
            Length::Transactions(per_client),
            &numbering,
        )?;
        let inserted = seed::count_members(setup.conn, setup.tenant, g_bare)?;
        if inserted != c * per_client * PAGE {
            bail!(
                "pgbench E inserted {inserted} members, expected {}",
                c * per_client * PAGE
            );
        }
        put("E", e_bare, e_server);
    }
    if only('A') {
        put(
            "A",
            pg.run(&name("a-bare"), &scripts::a_bare(f), c, timed, &[])?,
            pg.run(&name("a-server"), &scripts::a_server(f), c, timed, &[])?,
        );
    }
    Ok(())
}

/// Okta's group push (POST /Groups), outside the measurements; the new group's id.
async fn create_group(ctx: &Ctx, name: &str) -> anyhow::Result<String> {
    let mut client = Client::new(ctx.client, &ctx.target)?;
    let response = client
        .send(&Request {
            method: "POST",
            path: format!("{}/Groups", ctx.base),
            body: Some(okta::create_group_body(name)),
        })
        .await
        .context("creating the group of phase E")?;
    let group = okta::json_body(&response, 201).map_err(|e| anyhow!("POST /Groups: {e}"))?;
    Ok(okta::text(&group, "/id")
        .map_err(|e| anyhow!("POST /Groups: {e}"))?
        .to_owned())
}

/// F once more with another client, to compare the load generators' own cost.
pub async fn client_cost(ctx: &Ctx, count: usize, c: usize) -> anyhow::Result<f64> {
    let plan: Arc<dyn Plan> = Arc::new(phases::Config { count });
    let m = runner::run(ctx, plan, c).await?;
    if m.errors > 0 {
        bail!("client comparison: {:?}", m.error_samples);
    }
    Ok(m.per_request_us(m.client_cpu))
}

/// Requests per batch between two readings of [`batching`] (mean), with the largest so far;
/// `None` from a server without batching.
fn per_batch(
    before: Option<(u64, u64, u64)>,
    after: Option<(u64, u64, u64)>,
) -> Option<(f64, u64)> {
    let (before, after) = before.zip(after)?;
    let batches = after.1.saturating_sub(before.1).max(1);
    let requests = after.0.saturating_sub(before.0);
    let mean = requests as f64 / batches as f64;
    eprintln!(
        "        {mean:.1} requests per batch (largest so far {})",
        after.2
    );
    Some((mean, after.2))
}

/// The server's batching of `kind` so far: requests, batches and the largest batch; `None`
/// when the server does not say (an older build, compared side by side).
async fn batching(ctx: &Ctx, kind: &str) -> anyhow::Result<Option<(u64, u64, u64)>> {
    let answer = reqwest::get(format!("http://{}/healthz/batching", ctx.target.addr)).await?;
    if !answer.status().is_success() {
        return Ok(None);
    }
    let figures: serde_json::Value = answer.json().await?;
    let number = |name: &str| figures[kind][name].as_u64().unwrap_or(0);
    Ok(Some((
        number("requests"),
        number("batches"),
        number("largest"),
    )))
}
