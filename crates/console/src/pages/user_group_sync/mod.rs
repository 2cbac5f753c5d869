//! Secure > Advanced > User and Group Sync: generate, regenerate and revoke the SCIM token, see
//! its status and the first-run checklist, test the connection, and set up notifications. Only the POST mints a token, and its response is
//! the only place the token is ever shown.

pub mod notifications;
pub mod self_test;
mod service;

use actix_web::web;
use askama::Template;
use chrono::Utc;
use serde::Deserialize;
use tenancy::scim_tokens::{self, IssuedToken, TokenCache};
use tenancy::tenants::AuthType;
use tenancy::{Db, Deployment, TokenId, secret};

pub use self::service::{Setup, Step, SyncState, generate, load, revoke};
use super::token_status::TokenStatus;
use crate::error::ConsoleError;
use crate::form::{CsrfForm, EmptyForm};
use crate::layout::{Layout, date};
use crate::page::Page;
use crate::session::Console;

/// The page, with the SCIM Credentials dialog when a token was just issued.
#[derive(Template)]
#[template(path = "secure/advanced/user_group_sync.html")]
struct UserGroupSyncPage {
    layout: Layout,
    scim_enabled: bool,
    openid: bool,
    overlap_days: i64,
    request_id: String,
    status: TokenStatus,
    checklist: Vec<Step>,
    set_up: bool,
    issued: Option<IssuedView>,
    already_shown: bool,
    connection_test: Option<TestView>,
    notifications: notifications::Panel,
    new_endpoint: Option<notifications::NewEndpoint>,
    banner: Option<super::safety::view::BannerView>,
    waiting_review: i64,
    shadow: bool,
}

/// What this response shows once: a token just issued (or the note that it was shown
/// already), an endpoint's signing secret just made.
#[derive(Default)]
pub struct Shown {
    issued: Option<IssuedToken>,
    already_shown: bool,
    new_endpoint: Option<notifications::NewEndpoint>,
}

/// The last connection test, as the page shows it.
struct TestView {
    running: bool,
    passed: bool,
    when: String,
    total_ms: u64,
    steps: Vec<self_test::StepResult>,
}

/// POST /console/secure/advanced/user-group-sync/test
pub async fn test_connection(
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let tenant = console.tenant.id;
    if !console.tenant.scim_usable() {
        return Ok(Page::see_other("/console/secure/advanced/user-group-sync")
            .flash("The connection can be tested once SCIM is switched on and the sign-in type is OpenID."));
    }
    let outcome =
        self_test::run(&db, tenant, &deployment.tenant_url(tenant), console.actor()).await?;
    let message = match outcome {
        self_test::Outcome::Busy => {
            "A connection test is already running for this organisation: its result appears here when it ends.".to_owned()
        }
        self_test::Outcome::Ran(steps) => {
            let failed = steps.iter().filter(|s| !s.passed).count();
            tracing::info!(tenant_id = %tenant, admin_id = %console.admin.id, failed, "connection test run from the console");
            if failed == 0 {
                format!("Connection test passed: {} steps.", steps.len())
            } else {
                format!("Connection test failed: {failed} of {} steps. See what to fix below.", steps.len())
            }
        }
    };
    Ok(Page::see_other("/console/secure/advanced/user-group-sync#connection-test").flash(&message))
}

/// The freshly issued credentials.
struct IssuedView {
    tenant_url: String,
    token: String,
    expires: String,
    file_slug: String,
}

/// The Generate / Regenerate form.
#[derive(Debug, Deserialize)]
pub struct GenerateForm {
    request_id: String,
    /// "Start in shadow mode (dry run)", offered with the first token.
    #[serde(default)]
    shadow: Option<String>,
}

fn setup(console: &Console, notifier: &notify::Notifier) -> Setup {
    Setup {
        openid: console.tenant.auth_type() == AuthType::OpenId,
        email_on: notifier.email_on(),
    }
}

/// GET /console/secure/advanced/user-group-sync
pub async fn show_user_group_sync(
    console: Console,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
    notifier: web::Data<notify::Notifier>,
) -> Result<Page, ConsoleError> {
    let tenant = console.tenant.id;
    let state = load(
        &db,
        tenant,
        setup(&console, &notifier),
        deployment.tenant_url(tenant),
        Utc::now(),
    )
    .await?;
    render(&console, &deployment, state, Shown::default())
}

/// POST /console/secure/advanced/user-group-sync/token: Generate or Regenerate Token.
pub async fn regenerate_scim_token(
    submitted: CsrfForm<GenerateForm>,
    db: web::Data<Db>,
    deployment: web::Data<Deployment>,
    notifier: web::Data<notify::Notifier>,
) -> Result<Page, ConsoleError> {
    let CsrfForm { mut console, form } = submitted;
    let tenant = console.tenant.id;
    let request_id = form.request_id.chars().take(64).collect::<String>();
    // Shadow mode first, so that the identity provider's very first request is staged.
    if form.shadow.as_deref() == Some("on") && console.tenant.shadow_tenant_id.is_none() {
        let shadow = super::shadow::start(&db, tenant, console.actor()).await?;
        console.tenant.shadow_tenant_id = Some(shadow);
    }
    let (issued, state) = generate(
        &db,
        tenant,
        setup(&console, &notifier),
        deployment.tenant_url(tenant),
        (request_id, console.actor()),
        deployment.token_overlap,
        Utc::now(),
    )
    .await?;
    let already_shown = issued.is_none();
    if let Some(issued) = &issued {
        tracing::info!(tenant_id = %tenant, token_id = %issued.record.id, admin_id = %console.admin.id, "SCIM token issued from the console");
    }
    let shown = Shown {
        issued,
        already_shown,
        new_endpoint: None,
    };
    render(&console, &deployment, state, shown)
}

/// POST /console/secure/advanced/user-group-sync/tokens/{id}/revoke
pub async fn revoke_scim_token(
    path: web::Path<String>,
    submitted: CsrfForm<EmptyForm>,
    db: web::Data<Db>,
    tokens: web::Data<TokenCache>,
) -> Result<Page, ConsoleError> {
    let console = submitted.console;
    let token: TokenId = path.parse().map_err(|_| ConsoleError::NotFound)?;
    let tenant = console.tenant.id;
    let row = revoke(&db, tenant, token, console.actor(), Utc::now()).await?;
    // "Refused now" is only said once this server refuses the token too; the other servers
    // refuse it within the bound of their re-check, whether or not the announcement reaches
    // them.
    tokens.catch_up(&db).await?;
    tracing::info!(tenant_id = %tenant, token_id = %row.id, admin_id = %console.admin.id, "SCIM token revoked");
    Ok(
        Page::see_other("/console/secure/advanced/user-group-sync").flash(&format!(
            "The token ending in {} was revoked: it is refused from now on, on every server \
             within {} seconds.",
            row.last4,
            scim_tokens::REFUSED_EVERYWHERE_WITHIN.as_secs()
        )),
    )
}

fn render(
    console: &Console,
    deployment: &Deployment,
    state: SyncState,
    shown: Shown,
) -> Result<Page, ConsoleError> {
    let Shown {
        issued,
        already_shown,
        new_endpoint,
    } = shown;
    let tenant_url = deployment.tenant_url(console.tenant.id);
    Page::ok(&UserGroupSyncPage {
        layout: Layout::new(console, "secure", "User and Group Sync"),
        scim_enabled: console.tenant.scim_enabled,
        openid: console.tenant.auth_type() == AuthType::OpenId,
        overlap_days: deployment.token_overlap.num_days(),
        request_id: secret::random_alphanumeric(24),
        set_up: state.set_up(),
        status: state.status,
        checklist: state.checklist,
        issued: issued.map(|issued| IssuedView {
            tenant_url,
            token: issued.token,
            expires: date(issued.record.expires_at),
            file_slug: slug(&console.tenant.name),
        }),
        already_shown,
        connection_test: state
            .connection_test
            .map(|test| TestView {
                running: test.finished_at.is_none(),
                passed: test.passed.unwrap_or(false),
                when: crate::layout::time_seconds(test.started_at),
                total_ms: 0,
                steps: serde_json::from_value(test.steps).unwrap_or_default(),
            })
            .map(|mut view| {
                view.total_ms = view.steps.iter().map(|s| s.ms).sum();
                view
            }),
        notifications: state.notifications,
        new_endpoint,
        banner: state
            .trip
            .as_ref()
            .map(|trip| super::safety::view::BannerView::of(trip, Utc::now())),
        waiting_review: state.waiting_review,
        shadow: console.tenant.shadow_tenant_id.is_some(),
    })
}

/// A file-name-safe form of a tenant name: `Acme Corp.` -> `acme-corp`.
pub fn slug(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "tenant".to_owned()
    } else {
        slug
    }
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(slug("Acme Corp."), "acme-corp");
        assert_eq!(slug("Ünïcode & Co"), "n-code-co");
        assert_eq!(slug("!!!"), "tenant");
    }
}
