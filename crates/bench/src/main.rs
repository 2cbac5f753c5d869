//! `bench`: the provisioning benchmark of issue 6. Starts a private durable PostgreSQL cluster
//! and `insights serve` (release build) against it, drives Okta's request shapes at several
//! concurrencies over keep-alive HTTP/1.1, runs the same work through pgbench, and writes the
//! results as markdown (see `docs/PERFORMANCE.md` and the README's Benchmark section).

mod admin;
mod console_pages;
mod fairness;
mod go_live;
mod http;
mod level;
mod memory;
mod okta;
mod pgbench;
mod phases;
mod procfs;
mod purge;
mod refusals;
mod report;
mod runner;
mod scripts;
mod seed;
mod stack;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use clap::Parser;

use crate::http::{ClientKind, Target};
use crate::runner::Ctx;
use crate::stack::Stack;

/// The provisioning benchmark: Okta's SCIM hot paths against `insights serve`, side by side
/// with pgbench on the same database.
#[derive(Debug, Clone, Parser)]
#[command(name = "bench")]
struct Args {
    /// Users created (then looked up and deactivated) per concurrency level.
    #[arg(long, default_value_t = 2000)]
    users: usize,
    /// Concurrency levels (connections), comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64")]
    concurrency: Vec<usize>,
    /// Members pushed to one group in phase E (batches of 100).
    #[arg(long, default_value_t = 10_000)]
    members: usize,
    /// Requests of phase F (and of the /healthz baseline) per level.
    #[arg(long, default_value_t = 4000)]
    f_requests: usize,
    /// Seconds of each time-based pgbench run.
    #[arg(long, default_value_t = 5)]
    pgbench_seconds: u64,
    /// Skip pgbench (server numbers only).
    #[arg(long)]
    no_pgbench: bool,
    /// The load generator's HTTP client.
    #[arg(long, value_enum, default_value = "raw")]
    client: ClientKind,
    /// The server's database pool (INSIGHTS_DB_POOL_SIZE).
    #[arg(long, default_value_t = 24)]
    pool_size: u32,
    /// A phase stops sending after this many seconds (its unsent requests count as errors).
    #[arg(long, default_value_t = 300)]
    phase_timeout: u64,
    /// The concurrency at which the targets are judged.
    #[arg(long, default_value_t = 16)]
    judge_at: usize,
    /// The server binary (a release build).
    #[arg(long, default_value = stack::SERVER_BINARY)]
    server_binary: PathBuf,
    /// Phases to run (B and C bring A along); F includes the /healthz baseline.
    #[arg(long, default_value = "ABCDEF")]
    phases: String,
    /// Run the server under this command (a profiler), e.g. "perf record -e cpu-clock -g -o /tmp/p.data --".
    #[arg(long, allow_hyphen_values = true)]
    server_wrapper: Option<String>,
    /// Skip the reqwest-versus-raw client comparison at the end.
    #[arg(long)]
    no_client_comparison: bool,
    /// Run only the memory scenario: a CSV import of this many MiB through the console while
    /// SCIM bodies of 4 MiB arrive at the first concurrency level; prints the peak RSS.
    #[arg(long)]
    memory: Option<usize>,
    /// Run only the fairness scenario: one tenant's lookups alone and while another tenant
    /// pushes creates at the first concurrency level; prints both p99s.
    #[arg(long)]
    fairness: bool,
    /// Run only the console scenario: seed 100,000 users and 2,000,000 events
    /// (scripts/seed-console.sql) and load every console page 20 times; prints p50 and p95.
    #[arg(long)]
    console: bool,
    /// Run only the purge scenario: this many expired events are purged while SCIM creates
    /// arrive at the first concurrency level; prints the create p99 without and during it.
    #[arg(long)]
    purge: Option<usize>,
    /// Run only the refusal scenario: this many wrong-token requests per kind of URL (see
    /// `refusals.rs`), with the server CPU each costs.
    #[arg(long)]
    refusals: Option<usize>,
    /// Run only the go-live scenario: shadow mode, this many users and one group per 50 of
    /// them pushed at the first concurrency level, then the review and Go live timed.
    #[arg(long)]
    go_live: Option<usize>,
    /// Rows per purge transaction in the purge scenario (the server's default unless set).
    #[arg(long)]
    purge_batch: Option<i64>,
    /// Large bodies each client sends in the memory scenario.
    #[arg(long, default_value_t = 4)]
    memory_bodies: usize,
    /// Where the markdown goes (the generated section is replaced).
    #[arg(long, default_value = "docs/PERFORMANCE.md")]
    out: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        tokio::select! {
            result = bench(args) => result,
            _ = tokio::signal::ctrl_c() => Err(anyhow!("interrupted; the server and the cluster were stopped")),
        }
    })
}

async fn bench(args: Args) -> anyhow::Result<()> {
    let wrapper: Vec<String> = args
        .server_wrapper
        .as_deref()
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let stack = Stack::start(&args.server_binary, args.pool_size, &wrapper)?;
    let result = match args.memory {
        Some(csv_mib) => memory::run(
            &stack,
            memory::Plan {
                csv_mib,
                concurrency: args.concurrency.first().copied().unwrap_or(16),
                bodies_per_client: args.memory_bodies,
            },
        )
        .await
        .map(|figures| println!("{figures}")),
        None if args.purge.is_some() => purge::run(
            &stack,
            args.purge.unwrap_or_default(),
            args.concurrency.first().copied().unwrap_or(16),
            args.purge_batch,
        )
        .await
        .map(|figures| println!("{figures}")),
        None if args.refusals.is_some() => refusals::run(
            &stack,
            args.refusals.unwrap_or_default(),
            args.concurrency.first().copied().unwrap_or(16),
        )
        .await
        .map(|figures| println!("{figures}")),
        None if args.go_live.is_some() => go_live::run(
            &stack,
            args.go_live.unwrap_or_default(),
            args.concurrency.first().copied().unwrap_or(16),
        )
        .await
        .map(|figures| println!("{figures}")),
        None if args.console => console_pages::run(&stack)
            .await
            .map(|figures| println!("{figures}")),
        None if args.fairness => {
            fairness::run(&stack, args.concurrency.first().copied().unwrap_or(64))
                .await
                .map(|figures| println!("{figures}"))
        }
        None => measure(&args, &stack).await,
    };
    if result.is_err() {
        eprintln!("server log (last lines):\n{}", stack.server_log_tail());
    }
    drop(stack);
    result
}

async fn measure(args: &Args, stack: &Stack) -> anyhow::Result<()> {
    let tenant: uuid::Uuid = stack.tenant.parse()?;
    let mut conn = seed::connect(&stack.database_url)?;
    // pgbench's E numbers its batches per client: seed enough members for every level.
    let batches = args.members.div_ceil(phases::PAGE);
    let seeded = args
        .concurrency
        .iter()
        .map(|c| c.max(&1) * batches.div_ceil(*c.max(&1)) * phases::PAGE)
        .max()
        .unwrap_or(0)
        .max(args.members);
    eprintln!("seeding {seeded} member users for phase E");
    seed::seed_members(&mut conn, tenant, seeded)?;
    let facts = scripts::Facts {
        tenant: stack.tenant.clone(),
        token_id: seed::token_id(&mut conn, tenant)?,
    };
    let ticks = procfs::clock_ticks();
    let ctx = Ctx {
        target: Target {
            addr: stack.addr.clone(),
            token: stack.token.clone(),
        },
        base: format!("/scim/v2/{}", stack.tenant),
        client: args.client,
        server_pid: stack.server_pid.clone(),
        postmaster_pid: stack.postmaster_pid.clone(),
        ticks_per_second: ticks,
        phase_timeout: Duration::from_secs(args.phase_timeout),
    };
    let pg = if args.no_pgbench {
        None
    } else {
        Some(pgbench::Runner::new(
            &stack.database_url,
            &stack.dir,
            &stack.postmaster_pid,
        )?)
    };
    let mut setup = level::Setup {
        ctx: &ctx,
        conn: &mut conn,
        pgbench: pg.as_ref(),
        facts: &facts,
        tenant,
        users: args.users,
        members: args.members,
        f_requests: args.f_requests,
        pgbench_seconds: args.pgbench_seconds,
        phases: args.phases.to_uppercase(),
    };
    let mut levels = Vec::new();
    for &c in &args.concurrency {
        eprintln!("concurrency {c}");
        levels.push(
            level::run(&mut setup, c.max(1))
                .await
                .with_context(|| format!("at concurrency {c}"))?,
        );
    }
    // The other client on F, to show what the load generator itself costs.
    let mut client_costs = Vec::new();
    let at = args.judge_at;
    let kinds: &[ClientKind] = if args.no_client_comparison {
        &[]
    } else {
        &[ClientKind::Raw, ClientKind::Reqwest]
    };
    for &kind in kinds {
        let ctx = Ctx {
            client: kind,
            ..ctx.clone()
        };
        let cost = level::client_cost(&ctx, args.f_requests, at).await?;
        client_costs.push((format!("{kind:?}").to_lowercase(), at, cost));
    }
    // The plan on the table as the server's B phase saw it (without pgbench's extra rows).
    seed::reset_between_levels(&mut conn, tenant)?;
    let b_plan = seed::explain(
        &mut conn,
        tenant,
        &scripts::b_page_query(&okta::user_name(&format!("bench-c{at}"), 0)),
    )?;
    let facts = report::RunFacts {
        command: command_line(),
        date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        machine: machine(),
        postgres: seed::server_version(&mut conn)?,
        parameters: format!(
            "{} users created per level, {} members pushed, {} F requests, server pool {}, client `{}`, \
             pgbench -T {} s (E: -t per client), durable cluster (fsync on, synchronous_commit on, stock settings)",
            args.users,
            args.members,
            args.f_requests,
            args.pool_size,
            format!("{:?}", args.client).to_lowercase(),
            args.pgbench_seconds
        ),
        server_hwm_kb: procfs::status_kb(&stack.server_pid, "VmHWM").unwrap_or(0),
        client_costs,
        b_plan,
    };
    let section = report::render(&levels, &facts, at);
    println!("{section}");
    report::write(&args.out, &section)
        .with_context(|| format!("writing {}", args.out.display()))?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

/// The command as one would type it.
fn command_line() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    format!("cargo run --release -p bench -- {}", args.join(" "))
        .trim_end()
        .trim_end_matches(" --")
        .to_owned()
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let memory =
        procfs::mem_total_mib().map_or("?".into(), |m| format!("{:.1} GiB", m as f64 / 1024.0));
    let model = procfs::cpu_model().unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{cpus} CPUs ({model}), {memory} RAM, Linux {}",
        kernel.trim()
    )
}
