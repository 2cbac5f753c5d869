//! The console scenario (`--console`): one tenant seeded by `scripts/seed-console.sql` with
//! 100,000 users, a 50,000-member group, 20,000 cards and 2,000,000 events; every console page
//! is loaded 20 times by a signed-in admin and the p50, p95 and slowest answer are printed. The
//! target of issue 11 is a p95 under 150 ms for every page.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DurationRound as _, Utc};
use diesel::connection::SimpleConnection as _;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::admin::Admin;
use crate::seed;
use crate::stack::Stack;

/// The seeding script, shared with the README's manual instructions.
const SEED_SCRIPT: &str = include_str!("../../../scripts/seed-console.sql");
/// Loads per page.
const LOADS: usize = 20;

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

#[derive(QueryableByName)]
struct Number {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// One text from `sql`, whose `$1` is the tenant.
fn one(conn: &mut PgConnection, tenant: &str, sql: &str) -> anyhow::Result<String> {
    let found: Id = diesel::sql_query(sql)
        .bind::<Text, _>(tenant)
        .get_result(conn)
        .with_context(|| sql.to_owned())?;
    Ok(found.id)
}

/// The measured loads of one page.
struct Measured {
    page: String,
    p50: Duration,
    p95: Duration,
    slowest: Duration,
    bytes: usize,
}

/// Seeds, rolls the events up, loads every page and returns the figures as markdown.
pub async fn run(stack: &Stack) -> anyhow::Result<String> {
    let admin = Admin::sign_in(stack, "Console", "console@bench.example").await?;
    let tenant = admin.tenant.clone();
    let mut conn = seed::connect(&stack.database_url)?;

    eprintln!("seeding the console tenant (100,000 users, 2,000,000 events)");
    let started = Instant::now();
    diesel::sql_query("SELECT set_config('insights_seed.tenant', $1, false) AS id")
        .bind::<Text, _>(&tenant)
        .execute(&mut conn)?;
    // psql's own commands are left out; VACUUM cannot run inside the one multi-statement
    // string the rest is sent as, so it is sent by itself.
    let (script, vacuum): (Vec<&str>, Vec<&str>) = SEED_SCRIPT
        .lines()
        .filter(|line| !line.starts_with('\\'))
        .partition(|line| !line.starts_with("VACUUM"));
    conn.batch_execute(&script.join("\n"))?;
    for statement in vacuum {
        conn.batch_execute(statement)?;
    }
    let seeded = started.elapsed();

    // The server's maintenance rolls the hours up within a minute; doing it here instead makes
    // the measurement start at once and times the catch-up.
    let started = Instant::now();
    let final_hour = (Utc::now() - tenancy::maintenance::ROLLUP_GRACE)
        .duration_trunc(chrono::Duration::hours(1))?;
    loop {
        match tenancy::maintenance::roll_up_events(&mut conn, Utc::now())? {
            Some(until) if until >= final_hour => break,
            Some(_) => {}
            None => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let rolled = started.elapsed();

    let user = one(
        &mut conn,
        &tenant,
        "SELECT user_id::text AS id FROM cards WHERE tenant_id = $1::uuid ORDER BY user_id LIMIT 1",
    )?;
    let deactivated = one(
        &mut conn,
        &tenant,
        "SELECT id::text AS id FROM users WHERE tenant_id = $1::uuid AND NOT active ORDER BY id LIMIT 1",
    )?;
    let group = one(
        &mut conn,
        &tenant,
        "SELECT group_id::text AS id FROM group_members WHERE tenant_id = $1::uuid \
         GROUP BY group_id ORDER BY count(*) DESC LIMIT 1",
    )?;
    let job = one(
        &mut conn,
        &tenant,
        "SELECT id::text AS id FROM import_jobs WHERE tenant_id = $1::uuid ORDER BY created_at DESC LIMIT 1",
    )?;
    let event: Number = diesel::sql_query(
        "SELECT max(id) AS n FROM provisioning_events WHERE tenant_id = $1::uuid",
    )
    .bind::<Text, _>(&tenant)
    .get_result(&mut conn)?;
    let conflict: Number = diesel::sql_query(
        "SELECT max(id) AS n FROM provisioning_events WHERE tenant_id = $1::uuid AND status = 409",
    )
    .bind::<Text, _>(&tenant)
    .get_result(&mut conn)?;
    // A chart bar of the 7-day chart three days back (its interval, as the bar links it).
    let bar = (Utc::now().timestamp() / 3600 - 72) * 3600;
    let members: Number = diesel::sql_query(
        "SELECT count(*) AS n FROM group_members WHERE tenant_id = $1::uuid AND group_id = $2::uuid",
    )
    .bind::<Text, _>(&tenant)
    .bind::<Text, _>(&group)
    .get_result(&mut conn)?;
    let last_member_page = (members.n + 49) / 50;
    // A year of an IT team's console work in the audit log: 100,000 entries by 20 admins.
    diesel::sql_query(
        "INSERT INTO audit_log (tenant_id, id, at, actor, action, target, detail, client_addr) \
         SELECT $1::uuid, gen_random_uuid(), now() - make_interval(mins => g * 5), \
                'admin' || (g % 20) || '@corp.example', \
                (ARRAY['sign_in', 'card_added', 'token_generated', 'admin_role_changed'])[1 + g % 4], \
                'target ' || g, '{}'::jsonb, '127.0.0.1' \
         FROM generate_series(1, 100000) AS g",
    )
    .bind::<Text, _>(&tenant)
    .execute(&mut conn)?;

    let pages = [
        "/console/secure/advanced/user-group-sync".to_owned(),
        "/console/secure/advanced/user-group-sync/safety".to_owned(),
        "/console/secure/advanced/user-group-sync/safety?q=cagla".to_owned(),
        "/console/direct/settings".to_owned(),
        "/console/users".to_owned(),
        "/console/users?q=cagla".to_owned(),
        "/console/users?q=no-such-person".to_owned(),
        "/console/users?active=inactive".to_owned(),
        "/console/users?page=2000".to_owned(),
        format!("/console/users/{user}"),
        format!("/console/users/{deactivated}"),
        "/console/groups".to_owned(),
        "/console/groups?q=engineering".to_owned(),
        format!("/console/groups/{group}"),
        format!("/console/groups/{group}?page={last_member_page}"),
        format!("/console/groups/{group}?q=cagla"),
        "/console/activity".to_owned(),
        "/console/activity?status=failed".to_owned(),
        "/console/activity?range=24h&resource=Group".to_owned(),
        "/console/activity?range=1h".to_owned(),
        "/console/activity?range=30d".to_owned(),
        format!("/console/activity?range=7d&from={bar}&to={}", bar + 3600),
        "/console/activity?operation=deactivate".to_owned(),
        "/console/activity?operation=membership&status=failed".to_owned(),
        "/console/activity?operation=rejected".to_owned(),
        "/console/activity?q=p000042".to_owned(),
        "/console/activity?q=cagla".to_owned(),
        "/console/activity?q=Team+7".to_owned(),
        "/console/activity?q=corp.example".to_owned(),
        "/console/activity?q=no-such-person&operation=create".to_owned(),
        format!("/console/activity?about={user}"),
        format!("/console/activity/{}", event.n),
        format!("/console/activity/{}", conflict.n),
        "/console/import".to_owned(),
        format!("/console/import/{job}"),
        format!("/console/import/{job}?errors=1"),
        "/console/settings/sign-in".to_owned(),
        "/console/password".to_owned(),
        "/console/admins".to_owned(),
        "/console/mfa".to_owned(),
        "/console/audit".to_owned(),
        "/console/audit?action=admin_role_changed".to_owned(),
        "/console/audit?actor=admin7&from=2026-01-01".to_owned(),
        "/console/audit?actor=admin7@corp.example&action=sign_in".to_owned(),
        "/console/audit?actor=nobody-at-all".to_owned(),
    ];
    let mut measured = Vec::new();
    for page in pages {
        measured.push(load(&admin, &page, false).await?);
    }
    // An admin signed in through the identity provider, whose role is derived from the
    // 50,000-member group on every request.
    let provider = provider_admin(&mut conn, &admin, &tenant, &user, &group)?;
    for page in ["/console/users", "/console/secure/advanced/user-group-sync"] {
        let mut measured_page = load(&provider, page, false).await?;
        measured_page.page = format!("{page} (identity provider admin)");
        measured.push(measured_page);
    }
    // The export streams: what counts is how soon its first bytes leave.
    for page in [
        "/console/activity/export?format=csv",
        "/console/activity/export?format=jsonl&status=failed",
        "/console/activity/export?format=csv&q=p000042",
    ] {
        measured.push(load(&admin, page, true).await?);
    }
    let export = full_export(stack, &admin).await?;

    let mut out = String::new();
    writeln!(
        out,
        "Console pages with 100,000 users, a {}-member group and 2,000,000 events \
         (seeded in {:.0} s; roll-up of 31 days of events {:.1} s). {LOADS} loads per page after \
         one warm-up, one at a time, timed at the client on loopback (so the server's time is at \
         most this).\n",
        thousands(members.n),
        seeded.as_secs_f64(),
        rolled.as_secs_f64()
    )?;
    writeln!(out, "| page | p50 ms | p95 ms | slowest ms | KiB |")?;
    writeln!(out, "|---|---:|---:|---:|---:|")?;
    for m in &measured {
        writeln!(
            out,
            "| `{}` | {:.1} | {:.1} | {:.1} | {} |",
            m.page.replace(&tenant, "{tenant}"),
            ms(m.p50),
            ms(m.p95),
            ms(m.slowest),
            m.bytes / 1024
        )?;
    }
    let worst = measured.iter().map(|m| m.p95).max().unwrap_or_default();
    writeln!(
        out,
        "\nSlowest p95: {:.1} ms (target: under 150 ms). Export rows are the time to the first \
         bytes of the answer.",
        ms(worst)
    )?;
    writeln!(
        out,
        "\nFull export of all {} events as CSV: {:.1} s, {} MiB; the server's resident memory \
         {} MiB before and {} MiB after (peak {} MiB).",
        thousands(export.lines),
        export.took.as_secs_f64(),
        export.bytes / (1024 * 1024),
        export.rss_before_mib,
        export.rss_after_mib,
        export.peak_mib,
    )?;
    Ok(out)
}

/// One whole export, read as it streams.
struct Export {
    lines: i64,
    bytes: usize,
    took: Duration,
    rss_before_mib: u64,
    rss_after_mib: u64,
    peak_mib: u64,
}

/// Exports every event once and watches the server's memory while it streams.
async fn full_export(stack: &Stack, admin: &Admin) -> anyhow::Result<Export> {
    let rss = || crate::procfs::status_kb(&stack.server_pid, "VmRSS").unwrap_or(0) / 1024;
    let rss_before_mib = rss();
    let started = Instant::now();
    let mut answer = admin
        .http
        .get(format!("{}/console/activity/export?format=csv", admin.base))
        .send()
        .await?;
    if answer.status() != reqwest::StatusCode::OK {
        bail!("the export answered {}", answer.status());
    }
    let (mut bytes, mut newlines, mut peak_mib) = (0usize, 0i64, rss_before_mib);
    while let Some(chunk) = answer.chunk().await? {
        bytes += chunk.len();
        newlines += chunk.iter().filter(|b| **b == b'\n').count() as i64;
        if newlines % 100_000 < 2_000 {
            peak_mib = peak_mib.max(rss());
        }
    }
    Ok(Export {
        lines: newlines - 1,
        bytes,
        took: started.elapsed(),
        rss_before_mib,
        rss_after_mib: rss(),
        peak_mib,
    })
}

/// Loads `page` once to warm up and [`LOADS`] times to measure; with `first_byte`, each load is
/// timed to the first bytes of the body and then abandoned (a streamed export).
/// A console session of `user` as an admin through the identity provider: the group `group`
/// grants Admin, and provider sign-in is on. The session is made in the database (the bench
/// has no OpenID provider); every request then checks the user and their groups as always.
fn provider_admin(
    conn: &mut PgConnection,
    admin: &Admin,
    tenant: &str,
    user: &str,
    group: &str,
) -> anyhow::Result<Admin> {
    let tenant_id: tenancy::TenantId = tenant.parse().context("tenant id")?;
    let user_id: tenancy::UserId = user.parse().context("user id")?;
    diesel::sql_query("UPDATE tenants SET console_provider_sign_in = true WHERE id = $1::uuid")
        .bind::<Text, _>(tenant)
        .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO console_group_roles (tenant_id, group_id, role, created_at) \
         VALUES ($1::uuid, $2::uuid, 'admin', now())",
    )
    .bind::<Text, _>(tenant)
    .bind::<Text, _>(group)
    .execute(conn)?;
    diesel::sql_query(
        "INSERT INTO group_members (tenant_id, group_id, user_id, created_at) \
         VALUES ($1::uuid, $2::uuid, $3::uuid, now()) ON CONFLICT DO NOTHING",
    )
    .bind::<Text, _>(tenant)
    .bind::<Text, _>(group)
    .bind::<Text, _>(user)
    .execute(conn)?;
    let user_row = tenancy::directory::users::find(conn, tenant_id, user_id)?
        .with_context(|| format!("no user {user}"))?;
    let provider_admin = tenancy::admins::provider::admin_for_user(
        conn,
        tenant_id,
        &user_row,
        tenancy::stored::AdminRole::Admin,
        Utc::now(),
    )?;
    let (cookie, _) = tenancy::sessions::create(
        conn,
        tenant_id,
        tenancy::sessions::Principal::Admin(provider_admin.id),
        Utc::now(),
    )?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::COOKIE,
        reqwest::header::HeaderValue::from_str(&format!("insights_session={cookie}"))?,
    );
    Ok(Admin {
        http: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()?,
        base: admin.base.clone(),
        tenant: tenant.to_owned(),
    })
}

async fn load(admin: &Admin, page: &str, first_byte: bool) -> anyhow::Result<Measured> {
    let mut times = Vec::with_capacity(LOADS);
    let mut bytes = 0;
    for round in 0..=LOADS {
        let started = Instant::now();
        let answer = admin
            .http
            .get(format!("{}{page}", admin.base))
            .send()
            .await?;
        let status = answer.status();
        if status != reqwest::StatusCode::OK {
            bail!("GET {page} answered {status}");
        }
        let (took, size) = if first_byte {
            let mut answer = answer;
            let first = answer.chunk().await?.map_or(0, |c| c.len());
            (started.elapsed(), first)
        } else {
            let body = answer.bytes().await?;
            (started.elapsed(), body.len())
        };
        bytes = size;
        if round > 0 {
            times.push(took);
        }
    }
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    Ok(Measured {
        page: page.to_owned(),
        p50: at(0.50),
        p95: at(0.95),
        slowest: times[times.len() - 1],
        bytes,
    })
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn thousands(n: i64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
