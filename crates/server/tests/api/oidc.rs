//! End-user OpenID Connect sign-in against a real OpenID provider (the certified `oidc-provider`
//! package on loopback): success, not provisioned, deactivated (also a session ended by a SCIM
//! PATCH), bad state, replayed callback, wrong nonce, key rotation at the provider.

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use tenancy::directory::users::{self, UserFields};
use tenancy::scim_tokens;
use tenancy::tenants::{self, NewTenant, OpenIdSettings};
use tenancy::{TenantId, UserId};
use testkit::oidc::TestProvider;

use crate::helpers::{TestApp, spawn_app};

/// A tenant whose users sign in at a real provider, with two provisioned users.
pub(crate) struct World {
    pub(crate) app: TestApp,
    pub(crate) provider: TestProvider,
    pub(crate) tenant: TenantId,
    pub(crate) alice: UserId,
}

/// The provider's accounts: alice and bob are provisioned in the tenant, mallory is not.
fn accounts() -> Value {
    json!({
        "alice": { "email": "alice@acme.example", "preferred_username": "alice@acme.example", "name": "Alice Doe" },
        "bob": { "email": "bob@acme.example", "preferred_username": "Bob@Acme.example" },
        "mallory": { "email": "mallory@evil.example", "preferred_username": "mallory@evil.example" },
    })
}

pub(crate) async fn world() -> World {
    let app = spawn_app().await;
    let tenant = app
        .db()
        .run_across_tenants(tenancy::CrossTenant::Operator, |conn| {
            tenants::create(
                conn,
                &NewTenant {
                    name: "Acme".into(),
                    scim_enabled: true,
                    openid: None,
                },
                &tenancy::sealed::SecretKeys::for_tests(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let callback = format!("{}/t/{}/callback", app.base, tenant.id);
    // Console sign-in has a redirect URI of its own.
    let console_callback = format!("{}/console/sso/{}/callback", app.base, tenant.id);
    let signed_out = format!("{}/t/{}/signed-out", app.base, tenant.id);
    let provider = TestProvider::start(&[callback, console_callback], &[signed_out], accounts());
    let settings = OpenIdSettings {
        issuer: provider.issuer.clone(),
        client_id: provider.client_id.clone(),
        client_secret: provider.client_secret.clone(),
    };
    let tenant_id = tenant.id;
    app.db()
        .run(tenant_id, move |conn| {
            tenants::set_openid(
                conn,
                tenant_id,
                &settings,
                &tenancy::sealed::SecretKeys::for_tests(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let alice = provision(&app, tenant_id, "alice@acme.example").await;
    provision(&app, tenant_id, "bob@acme.example").await;
    World {
        app,
        provider,
        tenant: tenant_id,
        alice,
    }
}

pub(crate) async fn provision(app: &TestApp, tenant: TenantId, user_name: &str) -> UserId {
    let doc = json!({ "userName": user_name, "name": { "givenName": "Test" }, "emails": [{ "value": user_name, "primary": true }] });
    app.db()
        .run(tenant, move |conn| {
            let fields = UserFields::from_document(doc)?;
            users::insert(
                conn,
                tenant,
                &fields,
                tenancy::stored::UserSource::Scim,
                Utc::now(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .id
}

/// A browser with its own cookies that does not follow redirects on its own.
pub(crate) fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Where a walk through the sign-in ended.
pub(crate) struct Walk {
    pub(crate) status: StatusCode,
    pub(crate) url: String,
    pub(crate) body: String,
}

/// Follows redirects and fills the provider's login and consent forms as `login`, stopping at
/// our callback when `stop_at_callback`, else at the first page that is not a redirect or form.
pub(crate) async fn walk(
    client: &reqwest::Client,
    start: &str,
    login: &str,
    stop_at_callback: bool,
) -> Walk {
    let mut url = start.to_owned();
    let mut form: Option<Vec<(&str, String)>> = None;
    for _ in 0..25 {
        if stop_at_callback && url.contains("/callback?") {
            return Walk {
                status: StatusCode::OK,
                url,
                body: String::new(),
            };
        }
        let request = match form.take() {
            Some(fields) => client.post(&url).form(&fields),
            None => client.get(&url),
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request to {url} failed: {e}"));
        let status = response.status();
        if status.is_redirection() {
            let location = response
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            url = absolute(&url, &location);
            continue;
        }
        let body = response.text().await.unwrap_or_default();
        if let Some((action, prompt)) = interaction_form(&body) {
            url = absolute(&url, &action);
            form = Some(match prompt.as_str() {
                "login" => vec![
                    ("prompt", prompt),
                    ("login", login.to_owned()),
                    ("password", "any".to_owned()),
                ],
                _ => vec![("prompt", prompt)],
            });
            continue;
        }
        return Walk { status, url, body };
    }
    panic!("the sign-in did not settle within 25 steps (last URL {url})");
}

/// The action and `prompt` (login or consent) of the provider's interaction form, if the page
/// is one.
fn interaction_form(body: &str) -> Option<(String, String)> {
    let action = body
        .split("action=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|a| a.contains("/interaction/"))?
        .to_owned();
    let prompt = body
        .split("name=\"prompt\" value=\"")
        .nth(1)?
        .split('"')
        .next()?
        .to_owned();
    Some((action, prompt))
}

fn absolute(current: &str, location: &str) -> String {
    if location.starts_with("http://") || location.starts_with("https://") {
        return location.to_owned();
    }
    let origin: String = current.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    format!("{origin}{location}")
}

fn login_url(world: &World) -> String {
    format!("{}/t/{}/login", world.app.base, world.tenant)
}

async fn session_count(world: &World) -> i64 {
    let tenant = world.tenant;
    world
        .app
        .db()
        .run(tenant, move |conn| -> Result<i64, tenancy::Error> {
            use diesel::prelude::*;
            use tenancy::schema::sessions;
            Ok(sessions::table
                .filter(sessions::tenant_id.eq(tenant))
                .filter(sessions::user_id.is_not_null())
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn provisioned_user_signs_in_and_sees_their_page() {
    let world = world().await;
    let client = browser();

    let end = walk(&client, &login_url(&world), "alice", false).await;

    assert_eq!(end.status, StatusCode::OK, "{}", end.body);
    assert!(
        end.url.ends_with(&format!("/t/{}/me", world.tenant)),
        "ended at {}",
        end.url
    );
    assert!(end.body.contains("alice@acme.example"));
    assert_eq!(session_count(&world).await, 1);
    let alice = world.alice;
    let tenant = world.tenant;
    let linked = world
        .app
        .db()
        .run(tenant, move |conn| users::find(conn, tenant, alice))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        linked.and_then(|u| u.oidc_subject).as_deref(),
        Some("alice"),
        "the subject is recorded for later renames"
    );
}

#[tokio::test]
async fn user_name_matching_ignores_case() {
    let world = world().await;

    let end = walk(&browser(), &login_url(&world), "bob", false).await;

    assert!(
        end.url.ends_with("/me"),
        "ended at {} with {}",
        end.url,
        end.body
    );
}

#[tokio::test]
async fn not_provisioned_user_gets_a_page_and_no_session() {
    let world = world().await;

    let end = walk(&browser(), &login_url(&world), "mallory", false).await;

    assert_eq!(end.status, StatusCode::FORBIDDEN);
    assert!(
        end.body.contains("has not been provisioned"),
        "{}",
        end.body
    );
    assert_eq!(session_count(&world).await, 0);
}

#[tokio::test]
async fn deactivated_user_is_refused_and_scim_deactivation_ends_the_session() {
    let world = world().await;
    let client = browser();
    let signed_in = walk(&client, &login_url(&world), "alice", false).await;
    assert!(signed_in.url.ends_with("/me"));
    let tenant = world.tenant;
    let token = world
        .app
        .db()
        .run(tenant, move |conn| {
            scim_tokens::issue(conn, tenant, Utc::now(), chrono::Duration::days(7))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .token;

    let patch = reqwest::Client::new()
        .patch(format!("{}/scim/v2/{}/Users/{}", world.app.base, world.tenant, world.alice))
        .bearer_auth(&token)
        .header("Content-Type", "application/scim+json")
        .body(r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}"#)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let me = client
        .get(format!("{}/t/{}/me", world.app.base, world.tenant))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let again = walk(&client, &login_url(&world), "alice", false).await;

    assert_eq!(patch.status(), StatusCode::OK);
    assert_eq!(
        me.status(),
        StatusCode::SEE_OTHER,
        "the next request after deactivation is signed out"
    );
    assert!(
        me.headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .ends_with("/login")
    );
    assert_eq!(again.status, StatusCode::FORBIDDEN);
    assert!(again.body.contains("deactivated"), "{}", again.body);
    assert_eq!(session_count(&world).await, 0);
}

#[tokio::test]
async fn unknown_state_and_replayed_callback_are_refused_readably() {
    let world = world().await;
    let client = browser();

    let forged = client
        .get(format!(
            "{}/t/{}/callback?code=abc&state=forged",
            world.app.base, world.tenant
        ))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let forged_status = forged.status();
    let forged_body = forged.text().await.unwrap_or_default();
    let callback = walk(&client, &login_url(&world), "alice", true).await;
    let first = walk(&client, &callback.url, "alice", false).await;
    let replay = client
        .get(&callback.url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let replay_status = replay.status();
    let replay_body = replay.text().await.unwrap_or_default();

    assert_eq!(forged_status, StatusCode::BAD_REQUEST);
    assert!(forged_body.contains("expired"), "{forged_body}");
    assert!(first.url.ends_with("/me"));
    assert_eq!(replay_status, StatusCode::BAD_REQUEST);
    assert!(replay_body.contains("expired"), "{replay_body}");
    assert_eq!(
        session_count(&world).await,
        1,
        "only the first callback signed in"
    );
}

#[tokio::test]
async fn identity_provider_error_is_a_readable_page() {
    let world = world().await;

    let denied = browser()
        .get(format!(
            "{}/t/{}/callback?error=access_denied&state=x",
            world.app.base, world.tenant
        ))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = denied.status();
    let body = denied.text().await.unwrap_or_default();

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body.contains("cancelled") && body.contains("Try again"),
        "{body}"
    );
    assert_eq!(session_count(&world).await, 0);
}

#[tokio::test]
async fn wrong_nonce_is_refused() {
    let world = world().await;
    let client = browser();
    let callback = walk(&client, &login_url(&world), "alice", true).await;
    let tenant = world.tenant;
    world
        .app
        .db()
        .run(tenant, move |conn| -> Result<usize, tenancy::Error> {
            use diesel::prelude::*;
            use tenancy::schema::pending_oidc_logins;
            Ok(diesel::update(
                pending_oidc_logins::table.filter(pending_oidc_logins::tenant_id.eq(tenant)),
            )
            .set(pending_oidc_logins::nonce.eq("not-the-nonce"))
            .execute(conn)?)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let end = walk(&client, &callback.url, "alice", false).await;

    assert_eq!(end.status, StatusCode::UNAUTHORIZED);
    assert!(end.body.contains("could not be verified"), "{}", end.body);
    assert_eq!(session_count(&world).await, 0);
}

#[tokio::test]
async fn sign_in_survives_key_rotation_at_the_provider() {
    let mut world = world().await;
    let first = walk(&browser(), &login_url(&world), "alice", false).await;
    assert!(first.url.ends_with("/me"), "{}", first.body);

    world.provider.rotate_keys();
    let second = walk(&browser(), &login_url(&world), "alice", false).await;

    assert!(
        second.url.ends_with("/me"),
        "after rotation: {} {}",
        second.url,
        second.body
    );
    assert_eq!(session_count(&world).await, 2);
}

#[tokio::test]
async fn sign_out_ends_the_session_and_logs_out_at_the_provider() {
    let world = world().await;
    let client = browser();
    let me = walk(&client, &login_url(&world), "alice", false).await;
    let csrf = me
        .body
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_owned();

    let out = client
        .post(format!("{}/t/{}/logout", world.app.base, world.tenant))
        .form(&[("csrf", csrf)])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let location = out
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();

    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert!(
        location.starts_with(&world.provider.issuer),
        "RP-initiated logout at the provider: {location}"
    );
    assert!(location.contains("post_logout_redirect_uri="));
    assert_eq!(session_count(&world).await, 0);
    let signed_out = world
        .app
        .get(&format!("/t/{}/signed-out", world.tenant))
        .await
        .text()
        .await
        .unwrap_or_default();
    assert!(
        signed_out.contains(&format!(
            "href=\"/t/{}/login\">Sign in again</a>",
            world.tenant
        )),
        "{signed_out}"
    );
    assert!(!signed_out.contains("Try again"));
}

#[tokio::test]
async fn test_connection_checks_the_typed_client_and_keeps_every_typed_value() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let callback = format!("{}/t/{}/callback", app.base, admin.tenant.id);
    let provider = TestProvider::start(&[callback], &[], json!({}));
    let test = |issuer: String, client_id: String, secret: String| {
        let browser = &admin.browser;
        async move {
            let response = browser
                .submit(
                    "/console/settings/sign-in",
                    "/console/settings/sign-in/test",
                    &[
                        ("auth_type", "openid"),
                        ("issuer", &issuer),
                        ("client_id", &client_id),
                        ("client_secret", &secret),
                    ],
                )
                .await;
            let status = response.status();
            (status, response.text().await.unwrap_or_default())
        }
    };

    let (status, working) = test(
        provider.issuer.clone(),
        provider.client_id.clone(),
        provider.client_secret.clone(),
    )
    .await;
    let (_, wrong_secret) = test(
        provider.issuer.clone(),
        provider.client_id.clone(),
        "not-the-secret".into(),
    )
    .await;
    let (_, wrong_client) = test(
        provider.issuer.clone(),
        "typed-client-id".into(),
        "typed-secret".into(),
    )
    .await;
    let (_, unreachable) = test(
        "http://127.0.0.1:1/".into(),
        "typed-client-id".into(),
        "typed-secret".into(),
    )
    .await;

    assert_eq!(status, StatusCode::OK);
    assert!(
        working.contains("Everything that can be checked"),
        "{working}"
    );
    assert!(
        working.contains("accepted the client id and secret"),
        "{working}"
    );
    assert!(
        working.contains("Not checked"),
        "says what it did not check"
    );
    assert!(working.contains("register "), "{working}");
    for refused in [&wrong_secret, &wrong_client] {
        assert!(
            refused.contains("refused the client id or secret"),
            "{refused}"
        );
        assert!(refused.contains("Nothing was saved"));
    }
    // What was typed is still in the form, secret included, for the admin to correct or save.
    assert_eq!(
        crate::helpers::input_value_by_id(&wrong_client, "client_id").as_deref(),
        Some("typed-client-id")
    );
    assert_eq!(
        crate::helpers::input_value_by_id(&wrong_client, "client_secret").as_deref(),
        Some("typed-secret")
    );
    assert_eq!(
        crate::helpers::input_value_by_id(&unreachable, "issuer").as_deref(),
        Some("http://127.0.0.1:1/")
    );
    // A plain sentence first; the HTTP client's words only inside the expandable detail.
    assert!(
        unreachable.contains("could not be reached"),
        "{unreachable}"
    );
    let (plain, detail) = unreachable
        .split_once("<summary>Technical detail</summary>")
        .unwrap_or_else(|| panic!("no detail: {unreachable}"));
    assert!(!plain.contains("error sending request") && !plain.contains("os error"));
    assert!(
        detail.contains("Connection refused") || detail.contains("os error"),
        "{detail}"
    );
    // Nothing was saved by the tests.
    let settings = admin.browser.page("/console/settings/sign-in").await;
    assert_ne!(
        crate::helpers::input_value_by_id(&settings, "client_id").as_deref(),
        Some("typed-client-id")
    );
}

#[tokio::test]
async fn a_save_that_is_refused_keeps_what_was_typed() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let refused = admin
        .browser
        .submit(
            "/console/settings/sign-in",
            "/console/settings/sign-in",
            &[
                ("auth_type", "openid"),
                ("issuer", "not a url"),
                ("client_id", "typed-id"),
                ("client_secret", "typed-secret"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let html = refused.text().await.unwrap_or_default();
    assert_eq!(
        crate::helpers::input_value_by_id(&html, "client_id").as_deref(),
        Some("typed-id")
    );
    assert_eq!(
        crate::helpers::input_value_by_id(&html, "client_secret").as_deref(),
        Some("typed-secret")
    );
}

#[tokio::test]
async fn an_unreachable_provider_gets_a_plain_sentence_for_the_end_user() {
    let world = world().await;
    let tenant = world.tenant;
    let settings = OpenIdSettings {
        issuer: "http://127.0.0.1:1".into(),
        client_id: world.provider.client_id.clone(),
        client_secret: world.provider.client_secret.clone(),
    };
    world
        .app
        .db()
        .run(tenant, move |conn| {
            tenants::set_openid(
                conn,
                tenant,
                &settings,
                &tenancy::sealed::SecretKeys::for_tests(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let response = world.app.get(&format!("/t/{tenant}/login")).await;
    let status = response.status();
    let html = response.text().await.unwrap_or_default();
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert!(
        html.contains("could not be reached. Try again in a few minutes"),
        "{html}"
    );
    for raw in [
        "os error",
        "tcp connect",
        "error sending request",
        "127.0.0.1:1",
    ] {
        assert!(!html.contains(raw), "{raw} shown to an end user: {html}");
    }
}
