//! Secure > Advanced > User and Group Sync > Shadow review: while the tenant is in shadow
//! mode, what going live would change — users to create, update (field by field), deactivate
//! or delete, existing users to link, groups and memberships, conflicts — with counts, a search
//! and a filter by kind; **Go live** and **Discard**. **Start shadow mode** is on Provisioning
//! safety and beside Generate Token.

mod service;

use actix_web::web;
use askama::Template;
use serde::Deserialize;
use serde_json::Value;
use tenancy::safety::shadow::{Change, KINDS};
use tenancy::scim_tokens::TokenCache;
use tenancy::{Db, TenantId};

pub use self::service::start;
use crate::error::ConsoleError;
use crate::form::{CsrfForm, EmptyForm};
use crate::layout::{Layout, time};
use crate::page::Page;
use crate::session::Console;

/// The review page.
pub const REVIEW: &str = "/console/secure/advanced/user-group-sync/shadow";

/// The review's search and filter.
#[derive(Debug, Deserialize)]
pub struct ReviewQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    kind: Option<String>,
}

/// One change, in words.
struct ChangeLine {
    kind: &'static str,
    name: String,
    href: Option<String>,
    fields: Vec<String>,
}

/// A count of one kind, as a filter link.
struct KindCount {
    value: &'static str,
    label: &'static str,
    count: i64,
}

#[derive(Template)]
#[template(path = "secure/advanced/shadow.html")]
struct ReviewPage {
    layout: Layout,
    started: String,
    requests: i64,
    counts: Vec<KindCount>,
    total: i64,
    members: (i64, i64),
    held_matches: i64,
    changes: Vec<ChangeLine>,
    search: String,
    kind: String,
    listed: i64,
}

fn label(kind: &str) -> (&'static str, &'static str) {
    KINDS
        .iter()
        .find(|(value, _)| *value == kind)
        .copied()
        .unwrap_or(("", "Other"))
}

/// The fields a change changes: `name: “old” → “new”`.
fn fields(change: &Change) -> Vec<String> {
    let (Some(live), Some(staged)) = (&change.live, &change.staged) else {
        return Vec::new();
    };
    let shown = |value: &Value| match value {
        Value::Null => "(none)".to_owned(),
        Value::String(text) => format!("“{text}”"),
        other => other.to_string(),
    };
    let mut out = Vec::new();
    for key in [
        "userName",
        "displayName",
        "givenName",
        "familyName",
        "email",
        "externalId",
        "active",
        "members",
    ] {
        let (before, after) = (&live[key], &staged[key]);
        if before != after {
            out.push(format!("{key}: {} → {}", shown(before), shown(after)));
        }
    }
    if live.get("attributes") != staged.get("attributes") && out.is_empty() {
        out.push("other attributes of the SCIM document".to_owned());
    }
    out
}

/// GET /console/secure/advanced/user-group-sync/shadow
pub async fn show_review(
    console: Console,
    query: web::Query<ReviewQuery>,
    db: web::Data<Db>,
) -> Result<Page, ConsoleError> {
    let query = query.into_inner();
    let search = query
        .q
        .map(|q| q.trim().chars().take(200).collect::<String>())
        .filter(|q| !q.is_empty());
    let kind = query
        .kind
        .filter(|k| KINDS.iter().any(|(value, _)| value == k));
    let tenant: TenantId = console.tenant.id;
    let Some(review) = service::review(&db, tenant, search.clone(), kind.clone()).await? else {
        return Ok(Page::see_other(&format!("{}#shadow", super::safety::PAGE))
            .flash("Shadow mode is not on: start it here to try a connection without changing the directory."));
    };
    let counts: Vec<KindCount> = review
        .counts
        .iter()
        .map(|(kind, count)| {
            let (value, label) = label(kind);
            KindCount {
                value,
                label,
                count: *count,
            }
        })
        .collect();
    Page::ok(&ReviewPage {
        layout: Layout::new(&console, "secure", "Shadow review"),
        started: format!("{} by {}", time(review.started.0), review.started.1),
        requests: review.requests,
        total: counts.iter().map(|c| c.count).sum(),
        counts,
        members: review.members,
        held_matches: review.held_matches,
        changes: review
            .changes
            .iter()
            .map(|change| {
                let (_, kind) = label(&change.kind);
                let is_group = change.kind.starts_with("group_");
                ChangeLine {
                    kind,
                    name: change.name.clone(),
                    href: (change.live.is_some()).then(|| {
                        format!(
                            "/console/{}/{}",
                            if is_group { "groups" } else { "users" },
                            change.id
                        )
                    }),
                    fields: fields(change),
                }
            })
            .collect(),
        search: search.unwrap_or_default(),
        kind: kind.unwrap_or_default(),
        listed: service::LISTED,
    })
}

/// POST …/shadow/start
pub async fn start_shadow(
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    start(&db, console.tenant.id, console.actor()).await?;
    tokens.catch_up(&db).await?;
    Ok(Page::see_other(REVIEW).flash(
        "Shadow mode is on: your identity provider's requests are answered as usual, but nothing is applied until you go live.",
    ))
}

/// POST …/shadow/go-live
pub async fn go_live(
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    match service::go_live(&db, console.tenant.id, console.actor()).await? {
        Ok(applied) => {
            tokens.catch_up(&db).await?;
            Ok(
                Page::see_other("/console/secure/advanced/user-group-sync").flash(&format!(
                    "Live: {} user(s) created, {} updated, {} deleted; {} group(s) created, {} updated, {} deleted; {} membership(s) added, {} removed. Your identity provider goes on with the same ids.",
                    applied.created,
                    applied.updated,
                    applied.deleted,
                    applied.groups_created,
                    applied.groups_updated,
                    applied.groups_deleted,
                    applied.members_added,
                    applied.members_removed
                )),
            )
        }
        Err(message) => Ok(Page::see_other(REVIEW).flash(&message)),
    }
}

/// POST …/shadow/discard
pub async fn discard(
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let discarded = service::discard(&db, console.tenant.id, console.actor()).await?;
    tokens.catch_up(&db).await?;
    Ok(
        Page::see_other("/console/secure/advanced/user-group-sync").flash(if discarded {
            "Shadow mode ended: the staged changes were discarded, and your identity provider's requests are applied from now on."
        } else {
            "Shadow mode was not on."
        }),
    )
}
