//! Secure > Advanced > User and Group Sync and Direct > Settings: the SCIM token lifecycle as an
//! admin sees it, and the sign-in settings SCIM depends on.

use chrono::{Duration, Utc};
use reqwest::header::CACHE_CONTROL;
use reqwest::{Method, StatusCode};
use tenancy::TenantId;
use tenancy::scim_tokens;
use uuid::Uuid;

use super::GET_PAGES;
use crate::helpers::{
    Admin, TenantFixture, TestApp, field_value, ids_after, input_value_by_id, location, spawn_app,
    text,
};

const SYNC: &str = "/console/secure/advanced/user-group-sync";
const TOKEN_ACTION: &str = "/console/secure/advanced/user-group-sync/token";

/// Presses Generate (or Regenerate) on the page as it is now; the response and its HTML.
async fn press_generate(admin: &Admin) -> (StatusCode, String, Vec<(String, String)>) {
    let html = admin.page(SYNC).await;
    let csrf = field_value(&html, "csrf").unwrap_or_else(|| panic!("no csrf"));
    let request_id = field_value(&html, "request_id").unwrap_or_else(|| panic!("no request_id"));
    let response = admin
        .post_form(
            TOKEN_ACTION,
            &[("csrf", &csrf), ("request_id", &request_id)],
        )
        .await;
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    (response.status(), text(response).await, headers)
}

/// The token shown in the SCIM Credentials dialog.
fn issued_token(html: &str) -> String {
    input_value_by_id(html, "issued-token").unwrap_or_else(|| panic!("no token in: {html}"))
}

/// Answers a SCIM request made with `token`.
async fn scim_status(app: &TestApp, tenant: TenantId, token: &str) -> StatusCode {
    app.scim(Method::GET, tenant, "/Users?count=1", token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .status()
}

async fn stored_tokens(app: &TestApp, tenant: TenantId) -> Vec<scim_tokens::ScimTokenRow> {
    app.db()
        .run(tenant, move |conn| scim_tokens::list(conn, tenant, 100))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn generate_shows_the_token_once_in_the_credentials_dialog() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let before = admin.page(SYNC).await;
    assert!(before.contains(">Generate Token</button>"));
    assert!(before.contains("No token yet."));

    let (status, html, headers) = press_generate(&admin).await;

    assert_eq!(status, StatusCode::OK);
    let token = issued_token(&html);
    assert!(token.starts_with("scim_") && token.len() >= 37, "{token}");
    assert!(html.contains("SCIM Credentials"));
    assert_eq!(
        input_value_by_id(&html, "issued-tenant-url").as_deref(),
        Some(format!("{}/scim/v2/{tenant}", app.base).as_str())
    );
    assert!(html.contains("data-download=\"acme-scim-credentials.txt\""));
    assert!(html.contains("data-copy=\"issued-token\""));
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == CACHE_CONTROL.as_str() && v.contains("no-store")),
        "the token page is never cached"
    );
    assert_eq!(scim_status(&app, tenant, &token).await, StatusCode::OK);
    for page in [SYNC, "/console/direct/settings", "/console/activity"] {
        let html = admin.page(page).await;
        assert!(!html.contains(&token), "{page} shows the token");
        assert!(!html.contains("issued-token"), "{page} shows the dialog");
    }
    let last4 = &token[token.len() - 4..];
    assert!(admin.page(SYNC).await.contains(&format!("••••{last4}")));
    assert!(
        admin
            .page("/console/direct/settings")
            .await
            .contains(&format!("••••{last4}"))
    );
    assert!(admin.page(SYNC).await.contains("Regenerate Token"));
    assert_eq!(stored_tokens(&app, tenant).await.len(), 1);
}

#[tokio::test]
async fn resubmitting_the_same_generate_form_mints_nothing_and_says_so() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let html = admin.page(SYNC).await;
    let csrf = field_value(&html, "csrf").unwrap_or_default();
    let request_id = field_value(&html, "request_id").unwrap_or_default();
    let form = [("csrf", csrf.as_str()), ("request_id", request_id.as_str())];
    let first = text(admin.post_form(TOKEN_ACTION, &form).await).await;
    let token = issued_token(&first);

    let again = admin.post_form(TOKEN_ACTION, &form).await;
    let status = again.status();
    let again = text(again).await;

    assert_eq!(status, StatusCode::OK);
    assert!(!again.contains(&token));
    assert!(!again.contains("issued-token"));
    assert!(again.contains("already shown once"), "{again}");
    assert_eq!(stored_tokens(&app, admin.tenant.id).await.len(), 1);
    assert_eq!(
        scim_status(&app, admin.tenant.id, &token).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn regenerate_keeps_the_old_token_until_the_new_one_is_used_and_shows_both() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let old = issued_token(&press_generate(&admin).await.1);

    let page = admin.page(SYNC).await;
    assert!(page.contains("Yes, regenerate the token"));
    assert!(
        page.contains("keeps working until your identity provider first uses the new one"),
        "the confirmation explains the overlap"
    );
    let (status, html, _) = press_generate(&admin).await;
    let new = issued_token(&html);

    assert_eq!(status, StatusCode::OK);
    assert_ne!(new, old);
    let page = admin.page(SYNC).await;
    assert!(!page.contains(&new) && !page.contains(&old));
    assert!(page.contains(&format!("••••{}", &new[new.len() - 4..])));
    assert!(page.contains(&format!("••••{}", &old[old.len() - 4..])));
    assert!(page.contains("Previous tokens"));
    assert!(page.contains("Still valid until"), "{page}");
    assert!(page.contains("Revoke now"));
    assert_eq!(scim_status(&app, tenant, &old).await, StatusCode::OK);

    // The identity provider switches to the new token: the old one is retired at once.
    assert_eq!(scim_status(&app, tenant, &new).await, StatusCode::OK);

    let page = admin.page(SYNC).await;
    assert!(
        page.contains("Retired when Okta first used the new token at"),
        "{page}"
    );
    assert!(!page.contains("Revoke now"));
    assert_eq!(
        scim_status(&app, tenant, &old).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(page.contains("Last access by the identity provider"));
    assert!(!page.contains("<dd>never</dd>"), "last access is recorded");
}

#[tokio::test]
async fn revoke_now_stops_the_previous_token_at_once() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let old = issued_token(&press_generate(&admin).await.1);
    let new = issued_token(&press_generate(&admin).await.1);
    let page = admin.page(SYNC).await;
    let ids = ids_after(&page, "/user-group-sync/tokens/");
    assert_eq!(ids.len(), 1, "one Revoke now button");

    let revoked = admin
        .submit(
            SYNC,
            &format!(
                "/console/secure/advanced/user-group-sync/tokens/{}/revoke",
                ids[0]
            ),
            &[],
        )
        .await;

    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&revoked), SYNC);
    let page = admin.page(SYNC).await;
    assert!(
        page.contains(&format!(
            "The token ending in {} was revoked: it is refused from now on, on every server within 3 seconds.",
            &old[old.len() - 4..]
        )),
        "{page}"
    );
    assert!(
        page.contains("Revoked at"),
        "the revoked token's state is shown"
    );
    assert!(!page.contains("Revoke now"));
    assert_eq!(
        scim_status(&app, tenant, &old).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(scim_status(&app, tenant, &new).await, StatusCode::OK);
}

#[tokio::test]
async fn another_tenants_token_cannot_be_revoked() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let other = app.create_tenant(TenantFixture::new("Globex")).await;
    let theirs = app.issue_token(other.id, Utc::now()).await;

    let foreign = admin
        .submit(
            SYNC,
            &format!(
                "/console/secure/advanced/user-group-sync/tokens/{}/revoke",
                theirs.record.id
            ),
            &[],
        )
        .await;
    let garbage = admin
        .submit(
            SYNC,
            "/console/secure/advanced/user-group-sync/tokens/not-an-id/revoke",
            &[],
        )
        .await;
    let unknown = admin
        .submit(
            SYNC,
            &format!(
                "/console/secure/advanced/user-group-sync/tokens/{}/revoke",
                Uuid::new_v4()
            ),
            &[],
        )
        .await;

    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_eq!(garbage.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let stored = stored_tokens(&app, other.id).await;
    assert!(stored.iter().all(|t| t.revoked_at.is_none()));
    assert_eq!(
        scim_status(&app, other.id, &theirs.token).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn without_scim_the_page_says_it_is_available_on_request_and_offers_no_generate() {
    let app = spawn_app().await;
    let admin = app
        .login_admin_of(TenantFixture::new("Acme").without_scim())
        .await;

    let page = admin.page(SYNC).await;
    let direct = admin.page("/console/direct/settings").await;
    let forced = admin
        .submit(SYNC, TOKEN_ACTION, &[("request_id", "r1")])
        .await;

    assert!(page.contains("available on request"));
    assert!(!page.contains("Generate Token"));
    assert!(!page.contains(TOKEN_ACTION));
    assert!(direct.contains("available on request"));
    assert_eq!(forced.status(), StatusCode::BAD_REQUEST);
    assert!(stored_tokens(&app, admin.tenant.id).await.is_empty());
}

#[tokio::test]
async fn with_password_sign_in_generate_is_disabled_and_the_page_explains_why() {
    let app = spawn_app().await;
    let admin = app
        .login_admin_of(TenantFixture::new("Acme").with_password_sign_in())
        .await;

    let page = admin.page(SYNC).await;
    let forced = admin
        .submit(SYNC, TOKEN_ACTION, &[("request_id", "r1")])
        .await;

    assert!(page.contains("OpenID sign-in is needed first"));
    assert!(page.contains("href=\"/console/settings/sign-in\""));
    assert!(page.contains("disabled aria-disabled=\"true\">Generate Token</button>"));
    assert!(!page.contains(TOKEN_ACTION));
    assert_eq!(forced.status(), StatusCode::BAD_REQUEST);
    assert!(text(forced).await.contains("OpenID"));
    assert!(stored_tokens(&app, admin.tenant.id).await.is_empty());
}

#[tokio::test]
async fn an_expired_token_is_announced_on_every_page() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let year_ago = Utc::now() - Duration::days(400);
    let expired = app.issue_token(tenant, year_ago).await;
    let user = app
        .insert_user(
            tenant,
            serde_json::json!({ "userName": "ann@acme.example" }),
            "console",
        )
        .await;
    let group = app.insert_group(tenant, "Staff", &[user]).await;
    let job = admin
        .upload_csv("users", "u.csv", b"userName\nbob@acme.example\n")
        .await;
    let job = location(&job);

    for page in GET_PAGES {
        let path = page
            .replace("{user}", &user.to_string())
            .replace("{group}", &group.to_string())
            .replace("/console/import/{job}", &job)
            .replace("/console/activity/{event}", "/console/activity");
        let html = admin.page(&path).await;
        assert!(
            html.contains("The SCIM token expired on"),
            "no banner on {path}"
        );
    }
    let sync = admin.page(SYNC).await;
    assert!(sync.contains("class=\"health red\""), "{sync}");
    assert!(sync.contains("Provisioning has stopped: the token expired on"));
    assert!(sync.contains("Expired on"));
    assert_eq!(
        scim_status(&app, tenant, &expired.token).await,
        StatusCode::UNAUTHORIZED
    );

    // A new token ends the warning.
    press_generate(&admin).await;
    assert!(
        !admin
            .page("/console/users")
            .await
            .contains("The SCIM token expired on")
    );
}

#[tokio::test]
async fn a_token_close_to_expiry_or_unused_for_long_gets_an_amber_warning() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    app.issue_token(admin.tenant.id, Utc::now() - Duration::days(350))
        .await;

    let page = admin.page(SYNC).await;

    // Never used: the health line waits for the first request; the expiry has its own warning.
    assert!(page.contains("class=\"health amber\""), "{page}");
    assert!(page.contains("Waiting for the first request from your identity provider"));
    assert!(page.contains("alert amber"));
    assert!(page.contains("Regenerate it and update your identity provider"));
    assert!(!page.contains("The SCIM token expired on"));
}

#[tokio::test]
async fn direct_settings_shows_the_tenant_url_and_the_token_status() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let token = issued_token(&press_generate(&admin).await.1);

    let page = admin.page("/console/direct/settings").await;

    assert!(page.contains(&format!("{}/scim/v2/{}", app.base, admin.tenant.id)));
    assert!(page.contains(&format!("••••{}", &token[token.len() - 4..])));
    assert!(page.contains("href=\"/console/secure/advanced/user-group-sync\""));
    assert!(!page.contains(&token));
}

#[tokio::test]
async fn sign_in_settings_switch_to_openid_and_refuse_bad_input() {
    let app = spawn_app().await;
    let admin = app
        .login_admin_of(TenantFixture::new("Acme").with_password_sign_in())
        .await;
    const PAGE: &str = "/console/settings/sign-in";

    let bad_issuer = admin
        .submit(
            PAGE,
            PAGE,
            &[
                ("auth_type", "openid"),
                ("issuer", "idp.example"),
                ("client_id", "x"),
                ("client_secret", "y"),
            ],
        )
        .await;
    let no_secret = admin
        .submit(
            PAGE,
            PAGE,
            &[
                ("auth_type", "openid"),
                ("issuer", "https://idp.example/"),
                ("client_id", "x"),
            ],
        )
        .await;
    let nonsense = admin
        .submit(PAGE, PAGE, &[("auth_type", "carrier-pigeon")])
        .await;
    assert_eq!(bad_issuer.status(), StatusCode::BAD_REQUEST);
    assert!(text(bad_issuer).await.contains("must be an http(s) URL"));
    assert_eq!(no_secret.status(), StatusCode::BAD_REQUEST);
    assert!(text(no_secret).await.contains("Enter the client secret"));
    assert_eq!(nonsense.status(), StatusCode::BAD_REQUEST);
    assert!(
        admin
            .page(SYNC)
            .await
            .contains("OpenID sign-in is needed first")
    );

    let saved = admin
        .submit(
            PAGE,
            PAGE,
            &[
                ("auth_type", "openid"),
                ("issuer", "https://idp.example/"),
                ("client_id", "insights"),
                ("client_secret", "s3cr3t-value"),
            ],
        )
        .await;

    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let page = admin.page(PAGE).await;
    assert!(page.contains("Sign-in settings saved."));
    assert!(page.contains("value=\"https://idp.example/\""));
    assert!(
        !page.contains("s3cr3t-value"),
        "the secret is never shown back"
    );
    assert!(page.contains(&format!("/t/{}/callback", admin.tenant.id)));
    assert!(admin.page(SYNC).await.contains(">Generate Token</button>"));

    // Going back to passwords while SCIM is active needs a confirmation.
    let unconfirmed = admin.submit(PAGE, PAGE, &[("auth_type", "password")]).await;
    assert_eq!(unconfirmed.status(), StatusCode::BAD_REQUEST);
    assert!(text(unconfirmed).await.contains("I understand"));
    assert!(admin.page(SYNC).await.contains(">Generate Token</button>"));
    let confirmed = admin
        .submit(PAGE, PAGE, &[("auth_type", "password"), ("confirm", "yes")])
        .await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    assert!(
        admin
            .page(SYNC)
            .await
            .contains("OpenID sign-in is needed first")
    );
}

#[tokio::test]
async fn the_activity_retention_is_chosen_in_direct_settings_within_its_range() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let stored = |app: &crate::helpers::TestApp| {
        let db = app.db().clone();
        async move {
            db.run(tenant, move |conn| tenancy::tenants::find(conn, tenant))
                .await
                .unwrap_or_else(|e| panic!("{e}"))
                .event_retention_days
        }
    };

    let page = admin.page("/console/direct/settings").await;
    assert!(page.contains("the default (30 days)"), "{page}");
    let saved = admin
        .submit(
            "/console/direct/settings",
            "/console/direct/settings/retention",
            &[("days", "90")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&app).await, Some(90));
    assert!(
        admin
            .page("/console/direct/settings")
            .await
            .contains("Provisioning activity is now kept for 90 days.")
    );

    for refused in ["5", "366", "a week", "99999", "-7"] {
        let response = admin
            .submit(
                "/console/direct/settings",
                "/console/direct/settings/retention",
                &[("days", refused)],
            )
            .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{refused}");
        let html = text(response).await;
        assert!(html.contains("7 to 365"), "{refused}: {html}");
        assert!(
            html.contains(&format!("value=\"{refused}\"")),
            "the typed value is kept"
        );
    }
    assert_eq!(
        stored(&app).await,
        Some(90),
        "a refused value changes nothing"
    );

    let reset = admin
        .submit(
            "/console/direct/settings",
            "/console/direct/settings/retention",
            &[("days", "")],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored(&app).await, None, "empty: the operator's default");
}

#[tokio::test]
async fn requests_with_a_wrong_token_show_on_the_sync_page_with_what_to_do() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let client = reqwest::Client::new();
    for _ in 0..2 {
        let answer = client
            .get(format!("{}/scim/v2/{tenant}/Users", app.base))
            .bearer_auth("scim_pastedWrongly000000000000000000000000000")
            .header("User-Agent", "Okta SCIM Client 1.0.0")
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let wanted =
        "Rejected: 2 requests in the last hour used a token that is not this organisation&#39;s";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let page = loop {
        let page = admin.page("/console/secure/advanced/user-group-sync").await;
        if page.contains(wanted) || std::time::Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert!(page.contains(wanted), "{page}");
    assert!(page.contains("user agent Okta SCIM Client 1.0.0"));
    // The tenant has no token yet: the way out is to make one.
    assert!(page.contains("Generate a token and paste it into your identity provider"));
    let settings = admin.page("/console/direct/settings").await;
    assert!(settings.contains(wanted), "Direct > Settings shows it too");
}
