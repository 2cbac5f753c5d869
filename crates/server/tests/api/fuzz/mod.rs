//! A bounded, generated HTTP fuzz run against the real server. Requests come from grammars
//! (SCIM filters and list parameters, PATCH documents, User and Group bodies, odd paths,
//! methods and `Authorization` headers, console searches and forms) and are then mutated
//! (bytes inserted, deleted, repeated, cut). Every answer must be free of 5xx; every SCIM error
//! must be an RFC 7644 error body; no server thread may panic; and a marked password sent in
//! any position a password can take must reach neither the activity log nor the stored users.
//!
//! Each run draws new inputs (its seed is printed; `FUZZ_SEED=<n>` draws the same ones again),
//! and a failure names the request and the answer in full.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

use chrono::Utc;
use diesel::RunQueryDsl as _;
use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::ValueTree as _;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, ORIGIN};
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;
use uuid::Uuid;

use crate::helpers::{Admin, Browser, TenantFixture, TestApp, field_value, spawn_app};

/// Requests sent per run.
mod arrange;
mod console;
mod documents;
mod exchange;
mod filters;
mod outcome;
mod patches;
mod requests;
mod secrets;
mod text;
mod traces;

use self::{
    arrange::*, console::*, documents::*, exchange::*, filters::*, outcome::*, patches::*,
    requests::*, secrets::*, text::*, traces::*,
};

const INPUTS: usize = 5_200;
/// What a run must at least have sent.
const MIN_INPUTS: usize = 5_000;
/// Requests in flight at once: enough to keep both server workers busy, few enough that the
/// tenant's share of the pool is never waited on for long.
const IN_FLIGHT: usize = 6;
/// SCIM requests with a missing or wrong token per run: the server answers 429 after 30.
const AUTH_FAILURES: usize = 16;
/// Sign-in form posts per run: the console pauses an address after 20 failures.
const SIGN_IN_POSTS: usize = 12;
/// Longest path and query sent: the HTTP layer refuses request heads over 128 KiB before any
/// route could answer.
const MAX_TARGET: usize = 60_000;
/// Failures shown in full (the rest are counted).
const SHOWN_FAILURES: usize = 25;

/// Starts every password the run sends; found anywhere in the database, it is a leak.
const SECRET: &str = "FUZZSECRET";
/// Markup in generated text; shown unescaped on a console page, it would be an injection.
const MARKUP: &str = "<i fz>";
/// userName of the user PATCH and PUT aim at.
const TARGET_NAME: &str = "fuzz-target@example.com";

const SCIM_JSON: &str = "application/scim+json";
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const CORE_PASSWORD: &str = "urn:ietf:params:scim:schemas:core:2.0:User:password";

#[tokio::test]
async fn generated_requests_get_well_formed_answers_and_store_no_secret() {
    install_panic_counter();
    let app = spawn_app().await;
    let (targets, clients) = arrange(&app).await;
    let seed = seed();
    let mut runner = TestRunner::new_with_rng(Config::default(), rng(seed));
    let strategy = probe(&targets);
    let mut budget = Budget {
        auth_failures: AUTH_FAILURES,
        sign_ins: SIGN_IN_POSTS,
    };
    let mut outcome = Outcome::default();
    let mut in_flight = JoinSet::new();
    let panics_before = PANICS.load(Ordering::SeqCst);
    let started = Instant::now();

    let mut regressions = regressions(&targets).into_iter();
    let mut sent = 0;
    while sent < INPUTS {
        let mut probe = match regressions.next() {
            Some(probe) => probe,
            None => strategy
                .new_tree(&mut runner)
                .unwrap_or_else(|e| panic!("cannot generate a request: {e}"))
                .current(),
        };
        if !fits(&probe, &targets) || !budget.admit(&mut probe) {
            continue;
        }
        while in_flight.len() >= IN_FLIGHT {
            outcome.settle(&mut in_flight).await;
        }
        let clients = clients.clone();
        in_flight.spawn(async move {
            let answer = send(&clients, &probe).await;
            (probe, answer)
        });
        sent += 1;
    }
    while !in_flight.is_empty() {
        outcome.settle(&mut in_flight).await;
    }
    let elapsed = started.elapsed();
    let events = settled_event_count(&app).await;
    let leaks = secret_traces(&app).await;
    let panics = PANICS.load(Ordering::SeqCst) - panics_before;

    eprintln!(
        "fuzz: seed {seed}, {sent} requests in {elapsed:.1?}, {events} events logged\n{}",
        outcome.summary()
    );
    let mut problems = outcome.failures.clone();
    if outcome.unshown > 0 {
        problems.push(format!("… and {} more failures", outcome.unshown));
    }
    if panics > 0 {
        let log = PANIC_LOG.lock().map(|l| l.join("\n")).unwrap_or_default();
        problems.push(format!("{panics} panics on server threads:\n{log}"));
    }
    if !leaks.is_empty() {
        let rows: Vec<String> = leaks.iter().map(|r| clip(&r.to_string(), 800)).collect();
        problems.push(format!(
            "{SECRET} was stored in the database:\n{}",
            rows.join("\n")
        ));
    }
    problems.extend(outcome.coverage_gaps());
    // The log must really have received the traffic, or "no secret in it" proves nothing.
    if events < u64::try_from(sent / 2).unwrap_or(u64::MAX) {
        problems.push(format!("only {events} events logged for {sent} requests"));
    }
    assert!(sent >= MIN_INPUTS, "only {sent} requests sent");
    assert!(
        problems.is_empty(),
        "seed {seed}:\n\n{}",
        problems.join("\n\n")
    );
}
