//! The go-live scenario (`--go-live N`): the tenant is put in shadow mode, N users and N/50
//! groups (50 members each) are pushed over SCIM at a given concurrency, as an identity
//! provider's first sync, and then the staged changes go live — the review and Go live timed
//! as the console runs them (`tenancy::safety::shadow`). Issue 14's target: 10,000 users and
//! 200 groups go live in under 10 seconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context as _, bail};
use chrono::Utc;
use reqwest::header::CONTENT_TYPE;
use serde_json::{Value, json};
use tenancy::TenantId;
use tenancy::safety::shadow;

use crate::seed;
use crate::stack::Stack;

/// Members per group.
const MEMBERS: usize = 50;

/// Pushes `users` users and their groups into the shadow at `concurrency`; times the review
/// and Go live.
pub async fn run(stack: &Stack, users: usize, concurrency: usize) -> anyhow::Result<String> {
    let tenant: TenantId = stack.tenant.parse()?;
    let mut conn = seed::connect(&stack.database_url)?;
    shadow::start(
        &mut conn,
        tenant,
        &tenancy::audit::Actor::operator(),
        Utc::now(),
    )?;
    let base = format!("http://{}/scim/v2/{}", stack.addr, stack.tenant);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let ids = post_all(
        &client,
        &base,
        &stack.token,
        concurrency,
        users,
        |n| {
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": format!("go-live-{n}@bench.example"),
                "name": {"givenName": "Go", "familyName": format!("Live {n}")},
                "emails": [{"value": format!("go-live-{n}@bench.example"), "primary": true}],
                "active": true,
            })
        },
        "/Users",
    )
    .await?;
    let ids = Arc::new(ids);
    let groups = users.div_ceil(MEMBERS);
    let members = ids.clone();
    post_all(
        &client,
        &base,
        &stack.token,
        concurrency,
        groups,
        move |g| {
            let start = g * MEMBERS;
            let end = (start + MEMBERS).min(members.len());
            let list: Vec<Value> = members[start..end]
                .iter()
                .map(|id| json!({"value": id}))
                .collect();
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": format!("Go-live group {g}"),
                "members": list,
            })
        },
        "/Groups",
    )
    .await?;
    let pushed = started.elapsed();

    let review_started = Instant::now();
    let review = shadow::review(&mut conn, tenant, None, None, 200)?;
    let review_took = review_started.elapsed();
    let live_started = Instant::now();
    let applied = shadow::go_live(
        &mut conn,
        tenant,
        &tenancy::audit::Actor::operator(),
        Utc::now(),
    )?;
    let live_took = live_started.elapsed();
    if applied.created != users || applied.groups_created != groups {
        bail!("go live applied {applied:?}, expected {users} users and {groups} groups");
    }
    Ok(format!(
        "## Shadow go-live\n\n\
         {users} users and {groups} groups ({members_total} memberships) pushed into the shadow at concurrency {concurrency} in {pushed:.1?} \
         ({requests} requests, {rate:.0}/s).\n\n\
         | step | time |\n|---|---|\n\
         | review (counts, membership changes, first 200 changes; {listed} listed) | {review_ms:.0} ms |\n\
         | Go live (one transaction: {created} users, {groups_created} groups, {members_added} memberships, {events} events moved) | {live_s:.2} s |\n",
        members_total = applied.members_added,
        requests = users + groups,
        rate = (users + groups) as f64 / pushed.as_secs_f64(),
        listed = review.changes.len(),
        review_ms = review_took.as_secs_f64() * 1000.0,
        created = applied.created,
        groups_created = applied.groups_created,
        members_added = applied.members_added,
        events = applied.events,
        live_s = live_took.as_secs_f64(),
    ))
}

/// POSTs `count` bodies made by `body` to `path` from `concurrency` workers; the ids answered,
/// in order.
async fn post_all(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    concurrency: usize,
    count: usize,
    body: impl Fn(usize) -> Value + Send + Sync + 'static,
    path: &str,
) -> anyhow::Result<Vec<String>> {
    let next = Arc::new(AtomicUsize::new(0));
    let body = Arc::new(body);
    let mut workers = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, next, body) = (client.clone(), next.clone(), body.clone());
        let (url, token) = (format!("{base}{path}"), token.to_owned());
        workers.push(tokio::spawn(async move {
            let mut done: Vec<(usize, String)> = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= count {
                    return Ok::<_, anyhow::Error>(done);
                }
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header(CONTENT_TYPE, "application/scim+json")
                    .body(body(n).to_string())
                    .send()
                    .await?;
                if response.status() != reqwest::StatusCode::CREATED {
                    bail!("POST {url} answered {}", response.status());
                }
                let answer: Value = response.json().await?;
                let id = answer["id"].as_str().context("no id")?.to_owned();
                done.push((n, id));
            }
        }));
    }
    let mut ids = vec![String::new(); count];
    for worker in workers {
        for (n, id) in worker.await?? {
            ids[n] = id;
        }
    }
    Ok(ids)
}
