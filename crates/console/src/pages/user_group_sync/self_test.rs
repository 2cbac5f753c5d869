//! Test the connection: the tenant's own SCIM endpoint exercised through the public Tenant URL
//! the way Okta does — ServiceProviderConfig, the `userName eq` lookup, create, read, replace,
//! deactivate and delete of a throwaway user, create, rename, add and remove a member of, and
//! delete a throwaway group — with a token minted for the test alone (see
//! `tenancy::scim_tokens::issue_self_test`). Each step is timed; a failure keeps the answer
//! received and what to fix. Whatever the outcome, nothing of the test stays in the directory
//! and its token is revoked. One test at a time per tenant (`tenancy::connection_tests`).

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tenancy::directory::{groups, users};
use tenancy::{Db, GroupId, TenantId, UserId, connection_tests, scim_tokens};

use crate::error::ConsoleError;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Answers are kept up to this many characters in a failed step.
const ANSWER_KEPT: usize = 2_000;

/// One step as shown in the checklist.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StepResult {
    /// What the step does, as Okta would ("Look up the user by userName").
    pub name: String,
    /// Whether it passed.
    pub passed: bool,
    /// Its time, in milliseconds.
    pub ms: u64,
    /// For a failure: the status and body received.
    pub answer: Option<String>,
    /// For a failure: what to fix.
    pub fix: Option<String>,
}

/// How a test ended.
#[derive(Debug)]
pub enum Outcome {
    /// It ran: the steps.
    Ran(Vec<StepResult>),
    /// Another test of the tenant is running.
    Busy,
}

/// The throwaway resources, cleaned up whatever happened.
#[derive(Default)]
struct Made {
    user: Option<String>,
    group: Option<String>,
}

/// Runs the tenant's connection test against `tenant_url`.
pub async fn run(
    db: &Db,
    tenant: TenantId,
    tenant_url: &str,
    actor: tenancy::audit::Actor,
) -> Result<Outcome, ConsoleError> {
    let started = Utc::now();
    let claimed = db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<bool, tenancy::Error> {
                let claimed = connection_tests::claim(conn, tenant, started)?;
                if claimed {
                    tenancy::audit::record(
                        conn,
                        tenant,
                        &actor,
                        tenancy::stored::AuditAction::ConnectionTested,
                        None,
                        serde_json::json!({}),
                        started,
                    )?;
                }
                Ok(claimed)
            })
        })
        .await?;
    if !claimed {
        return Ok(Outcome::Busy);
    }
    let issued = db
        .run(tenant, move |conn| {
            scim_tokens::issue_self_test(conn, tenant, started)
        })
        .await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("Insights connection test")
        .build()
        .map_err(|_| ConsoleError::Internal)?;
    let caller = Caller {
        client,
        base: tenant_url.trim_end_matches('/').to_owned(),
        token: issued.token.clone(),
    };
    let mut made = Made::default();
    let steps = exercise(&caller, &mut made).await;
    let passed = steps.iter().all(|s| s.passed);
    let token = issued.record.id;
    let record = serde_json::to_value(&steps).unwrap_or(Value::Array(Vec::new()));
    db.run(tenant, move |conn| -> Result<(), tenancy::Error> {
        // Whatever a failed step left behind goes now; the token stops working with it.
        if let Some(id) = made
            .group
            .as_deref()
            .and_then(|id| id.parse::<GroupId>().ok())
        {
            groups::delete(conn, tenant, id)?;
        }
        if let Some(id) = made
            .user
            .as_deref()
            .and_then(|id| id.parse::<UserId>().ok())
        {
            users::delete(conn, tenant, id)?;
            // Deleted over SCIM by the test, it is kept like any deleted user: not this one.
            tenancy::safety::deleted::forget(conn, tenant, id)?;
        }
        scim_tokens::revoke(conn, tenant, token, Utc::now())?;
        connection_tests::finish(conn, tenant, started, Utc::now(), passed, record)
    })
    .await?;
    Ok(Outcome::Ran(steps))
}

struct Caller {
    client: reqwest::Client,
    base: String,
    token: String,
}

/// A request's answer: status and JSON body (`Null` when there was none or it was not JSON).
struct Answer {
    status: StatusCode,
    body: Value,
    text: String,
}

impl Caller {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Answer, String> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Accept", "application/scim+json");
        if let Some(body) = body {
            request = request
                .header("Content-Type", "application/scim+json")
                .body(body.to_string());
        }
        let response = request.send().await.map_err(|error| {
            let why = if error.is_timeout() {
                "it did not answer within 10 seconds"
            } else if error.is_connect() {
                "the connection was refused or the name did not resolve"
            } else {
                "the request failed"
            };
            format!("Insights could not reach {}: {why}.", self.base)
        })?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Ok(Answer { status, body, text })
    }
}

/// The steps, in Okta's order; a step that fails ends the ones that depend on it.
async fn exercise(caller: &Caller, made: &mut Made) -> Vec<StepResult> {
    let mut steps = Vec::new();
    let marker = tenancy::secret::random_alphanumeric(10).to_lowercase();
    let user_name = format!("insights-connection-test-{marker}@example.invalid");
    let group_name = format!("Insights connection test {marker}");
    let lookup = format!(
        "/Users?filter={}",
        encode(&format!("userName eq \"{user_name}\""))
    );
    let patch = |operation: Value| Some(json!({"schemas": [PATCH], "Operations": [operation]}));

    let (reached, _) = step(
        &mut steps,
        "Read the ServiceProviderConfig",
        caller.call(Method::GET, "/ServiceProviderConfig", None),
        |a| {
            a.status == StatusCode::OK
                && a.body.pointer("/patch/supported") == Some(&Value::Bool(true))
        },
    )
    .await;
    if !reached {
        return steps;
    }
    step(
        &mut steps,
        "Look up the user by userName (none yet)",
        caller.call(Method::GET, &lookup, None),
        |a| a.status == StatusCode::OK && a.body["totalResults"] == json!(0),
    )
    .await;
    let user = json!({
        "schemas": [USER], "userName": user_name, "active": true,
        "name": {"givenName": "Connection", "familyName": "Test"},
        "emails": [{"value": user_name, "type": "work", "primary": true}],
    });
    let (created, body) = step(
        &mut steps,
        "Create the user",
        caller.call(Method::POST, "/Users", Some(user.clone())),
        |a| a.status == StatusCode::CREATED && made_id(a),
    )
    .await;
    // Whatever the answer, an id in it is something to clean up.
    made.user = body["id"].as_str().map(str::to_owned);
    if !created {
        return steps;
    }
    let user_id = made.user.clone().unwrap_or_default();
    let user_path = format!("/Users/{user_id}");
    step(
        &mut steps,
        "Read the user",
        caller.call(Method::GET, &user_path, None),
        |a| a.status == StatusCode::OK && a.body["userName"] == json!(user_name),
    )
    .await;
    let mut replaced = user;
    replaced["name"]["givenName"] = json!("Connection-Replaced");
    step(
        &mut steps,
        "Replace the user (PUT)",
        caller.call(Method::PUT, &user_path, Some(replaced)),
        |a| {
            a.status == StatusCode::OK
                && a.body["name"]["givenName"] == json!("Connection-Replaced")
        },
    )
    .await;
    step(
        &mut steps,
        "Deactivate the user",
        caller.call(
            Method::PATCH,
            &user_path,
            patch(json!({"op": "replace", "value": {"active": false}})),
        ),
        |a| a.status.is_success() && a.body["active"] != json!(true),
    )
    .await;

    let (created, body) = step(
        &mut steps,
        "Create the group",
        caller.call(
            Method::POST,
            "/Groups",
            Some(json!({"schemas": [GROUP], "displayName": group_name})),
        ),
        |a| a.status == StatusCode::CREATED && made_id(a),
    )
    .await;
    made.group = body["id"].as_str().map(str::to_owned);
    if created {
        let group_path = format!("/Groups/{}", made.group.clone().unwrap_or_default());
        let renamed = format!("{group_name} (renamed)");
        let member = format!("members[value eq \"{user_id}\"]");
        for (name, operation) in [
            (
                "Rename the group",
                json!({"op": "replace", "path": "displayName", "value": renamed}),
            ),
            (
                "Add the user to the group",
                json!({"op": "add", "path": "members", "value": [{"value": user_id}]}),
            ),
            (
                "Remove the user from the group",
                json!({"op": "remove", "path": member}),
            ),
        ] {
            step(
                &mut steps,
                name,
                caller.call(Method::PATCH, &group_path, patch(operation)),
                |a| a.status.is_success(),
            )
            .await;
        }
        let (deleted, _) = step(
            &mut steps,
            "Delete the group",
            caller.call(Method::DELETE, &group_path, None),
            |a| a.status == StatusCode::NO_CONTENT,
        )
        .await;
        if deleted {
            made.group = None;
        }
    }
    let (deleted, _) = step(
        &mut steps,
        "Delete the user",
        caller.call(Method::DELETE, &user_path, None),
        |a| a.status == StatusCode::NO_CONTENT,
    )
    .await;
    // The user stays in `made`: a deleted user is kept for restoring, and the clean-up
    // forgets this one.
    if deleted {
        step(
            &mut steps,
            "Check that the user is gone",
            caller.call(Method::GET, &user_path, None),
            |a| a.status == StatusCode::NOT_FOUND,
        )
        .await;
    }
    steps
}

fn made_id(answer: &Answer) -> bool {
    answer.body["id"].as_str().is_some_and(|id| !id.is_empty())
}

/// Runs one step: awaits the call, judges the answer, records the result. Whether it passed,
/// and the body received (a create's id is read from it even when the step failed, so that
/// what it made is cleaned up).
async fn step(
    steps: &mut Vec<StepResult>,
    name: &str,
    call: impl std::future::Future<Output = Result<Answer, String>>,
    passes: impl FnOnce(&Answer) -> bool,
) -> (bool, Value) {
    let started = Instant::now();
    let outcome = call.await;
    let ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let body = outcome
        .as_ref()
        .map_or(Value::Null, |answer| answer.body.clone());
    let (passed, answer, fix) = match outcome {
        Ok(answer) if passes(&answer) => (true, None, None),
        Ok(answer) => {
            let mut text: String = answer.text.chars().take(ANSWER_KEPT).collect();
            if answer.text.chars().count() > ANSWER_KEPT {
                text.push_str(" …");
            }
            (false, Some(format!("{} {}", answer.status.as_u16(), text)), Some(fix_for(answer.status)))
        }
        Err(unreachable) => (
            false,
            Some(unreachable),
            Some("Check INSIGHTS_PUBLIC_URL: the Tenant URL must reach this server from where it runs (and from Okta or Entra ID: a public HTTPS address).".to_owned()),
        ),
    };
    steps.push(StepResult {
        name: name.to_owned(),
        passed,
        ms,
        answer,
        fix,
    });
    (passed, body)
}

/// What to fix when a step got `status`.
fn fix_for(status: StatusCode) -> String {
    match status.as_u16() {
        401 | 403 => "The test's own token was refused: SCIM or OpenID sign-in may have been switched off while it ran. Check Sign-in settings and try again.".into(),
        404 => "The Tenant URL answered 404: INSIGHTS_PUBLIC_URL or a proxy in front of Insights does not lead to its SCIM API (/scim/v2/…).".into(),
        409 => "A resource with the test's name already exists: run the test again (it uses a new name each time).".into(),
        413 => "A proxy in front of Insights refused the request's size: allow bodies of at least 1 MiB on the SCIM path.".into(),
        429 | 503 => "Insights was busy or its database unavailable: try again in a minute.".into(),
        s if (300..400).contains(&s) => "The Tenant URL redirects: identity providers do not follow redirects. Set INSIGHTS_PUBLIC_URL to the final HTTPS address.".into(),
        _ => "The answer was not what Okta and Entra ID expect here. Contact Insights support with the time of the test.".into(),
    }
}

/// A query-string value, percent-encoded.
fn encode(value: &str) -> String {
    crate::error::encode(value)
}

/// The last test's result, for the page.
pub async fn last(
    db: &Db,
    tenant: TenantId,
) -> Result<Option<connection_tests::ConnectionTest>, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| connection_tests::last(conn, tenant))
        .await?)
}
