//! Defence in depth against a real server, finding by finding: NUL characters and CR/LF in the
//! console, the security headers and `Secure` cookies, forwarding headers believed only from
//! trusted proxies, sign-in and SCIM guessing throttled per address and per tenant, and the
//! OpenID client secret encrypted at rest. Each test failed on the code before the fixes.

use diesel::prelude::*;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, RETRY_AFTER, SET_COOKIE};
use serde_json::json;
use server::Settings;
use testkit::TestDb;

use crate::helpers::{TenantFixture, location, spawn_app, spawn_app_with, text};

/// A server that believes the forwarding headers of 127.0.0.1 (every test client).
fn behind_a_trusted_proxy() -> crate::helpers::TestApp {
    let test_db = TestDb::new();
    let mut settings = Settings::for_tests(test_db.url());
    settings.trusted_proxies = "127.0.0.1".parse().unwrap_or_default();
    spawn_app_with(settings, test_db)
}

#[tokio::test]
async fn a_nul_character_in_a_search_or_form_is_refused_in_words() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    for path in [
        "/console/users?q=%00",
        "/console/users?q=a%00b&page=2",
        "/console/groups?q=%00",
        "/console/activity?q=x%00",
    ] {
        let answer = admin.get(path).await;
        assert_eq!(answer.status(), StatusCode::BAD_REQUEST, "{path}");
        let page = text(answer).await;
        assert!(page.contains("NUL character"), "{path}: {page}");
        assert!(page.contains("<main"), "a readable page: {page}");
    }
    let user = app
        .insert_user(
            admin.tenant.id,
            json!({"userName": "nul@acme.example"}),
            "console",
        )
        .await;
    let page = format!("/console/users/{user}");
    let refused = admin
        .submit(
            &page,
            &format!("{page}/cards"),
            &[("card_number", "12\u{0}34")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(text(refused).await.contains("NUL character"));
}

#[tokio::test]
async fn a_nul_character_in_a_csv_cell_rejects_the_file_naming_the_line() {
    let app = spawn_app().await;
    let admin = app
        .login_admin_of(TenantFixture::new("Acme").without_scim())
        .await;
    let uploaded = admin
        .upload_csv(
            "users",
            "nul.csv",
            b"userName,givenName\nfine@acme.example,Fine\nbad@acme.example,Ba\0d\n",
        )
        .await;
    assert_eq!(uploaded.status(), StatusCode::BAD_REQUEST);
    let page = text(uploaded).await;
    assert!(
        page.contains("Line 3 contains a NUL character") && page.contains("Nothing was imported"),
        "{page}"
    );
}

#[tokio::test]
async fn a_line_break_in_the_return_address_cannot_split_a_header() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let shown = app
        .browser()
        .get("/console/login?next=%2Fconsole%0D%0ASet-Cookie%3A%20evil%3D1")
        .await;
    assert_eq!(shown.status(), StatusCode::OK);
    let signed_in = app
        .browser()
        .sign_in_to(
            &admin.tenant.email,
            &admin.tenant.password,
            Some("/console/users\r\nSet-Cookie: evil=1"),
        )
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&signed_in), "/console");
    assert!(
        signed_in
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .all(|c| !c.as_bytes().starts_with(b"evil")),
        "no header was injected"
    );
}

#[tokio::test]
async fn every_page_has_a_strict_content_security_policy_and_the_frame_headers() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let pages = [
        (admin.get("/console/users").await, "console"),
        (
            admin.get("/console/secure/advanced/user-group-sync").await,
            "console",
        ),
        (admin.get("/console/no-such-page").await, "console"),
        (app.get("/console/login").await, "console"),
        (
            app.get(&format!("/t/{tenant}/signed-out")).await,
            "end user",
        ),
        (app.get(&format!("/t/{tenant}/me")).await, "end user"),
    ];
    for (answer, kind) in pages {
        let url = answer.url().clone();
        let headers = answer.headers();
        let csp = headers
            .get(CONTENT_SECURITY_POLICY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("no CSP on {url}"));
        assert!(
            csp.contains("default-src 'none'")
                && csp.contains("script-src 'self'")
                && csp.contains("style-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline"),
            "{url}: {csp}"
        );
        assert_eq!(
            kind == "console",
            csp.contains("form-action 'self'"),
            "{url}"
        );
        for (name, value) in [
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
            ("cache-control", "no-store"),
        ] {
            assert_eq!(
                headers.get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{name} on {url}"
            );
        }
    }
}

#[test]
fn no_template_has_inline_script_or_style() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates");
    let mut stack = vec![root];
    let mut checked = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let html = std::fs::read_to_string(&path).unwrap_or_default();
            let lower = html.to_ascii_lowercase();
            for forbidden in [
                "<style",
                " style=",
                " onclick=",
                " onload=",
                " onsubmit=",
                "javascript:",
            ] {
                assert!(
                    !lower.contains(forbidden),
                    "{}: {forbidden}",
                    path.display()
                );
            }
            for script in lower.match_indices("<script") {
                let tag = &lower[script.0
                    ..lower[script.0..]
                        .find('>')
                        .map_or(lower.len(), |e| script.0 + e)];
                assert!(tag.contains(" src="), "{}: inline script", path.display());
            }
            checked += 1;
        }
    }
    assert!(checked > 10, "{checked} templates");
}

#[tokio::test]
async fn cookies_are_secure_under_https_and_behind_a_trusted_https_proxy_only() {
    let secure = |answer: &reqwest::Response| -> Vec<bool> {
        answer
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|c| {
                c.to_str()
                    .unwrap_or_default()
                    .to_ascii_lowercase()
                    .contains("; secure")
            })
            .collect()
    };
    // The public URL is https.
    let test_db = TestDb::new();
    let mut settings = Settings::for_tests(test_db.url());
    settings.public_url = Some("https://insights.example".into());
    let https = spawn_app_with(settings, test_db);
    let page = https.get("/console/login").await;
    assert_eq!(secure(&page), [true]);

    // Plain http, but a trusted proxy says the client came over https.
    let proxied = behind_a_trusted_proxy();
    let answer = proxied
        .client
        .get(format!("{}/console/login", proxied.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(secure(&answer), [true]);

    // The same header from anyone else changes nothing.
    let direct = spawn_app().await;
    let answer = direct
        .client
        .get(format!("{}/console/login", direct.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(secure(&answer), [false]);
}

#[tokio::test]
async fn an_end_user_sign_out_from_another_origin_is_refused() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let path = format!("/t/{}/logout", admin.tenant.id);
    let forged = app
        .browser()
        .post_form_from(&path, &[("csrf", "x")], Some("https://evil.example"))
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let ours = app.browser().post_form(&path, &[("csrf", "x")]).await;
    assert_eq!(ours.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_guesser_locks_only_their_own_address_out_of_an_account() {
    let app = behind_a_trusted_proxy();
    let tenant = app.create_tenant(TenantFixture::new("Acme")).await;
    let attacker = app.browser_from("198.51.100.1");
    for _ in 0..tenancy::admins::FREE_ATTEMPTS {
        let wrong = attacker.sign_in(&tenant.email, "not the password").await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    }
    let locked = attacker.sign_in(&tenant.email, &tenant.password).await;
    assert_eq!(
        locked.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "even the right password waits at that address"
    );
    let owner = app.browser_from("203.0.113.7");
    let signed_in = owner.sign_in(&tenant.email, &tenant.password).await;
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "the admin is not locked out"
    );
}

#[tokio::test]
async fn one_address_failing_with_many_accounts_is_throttled() {
    let app = behind_a_trusted_proxy();
    let sprayer = app.browser_from("198.51.100.9");
    let burst = console::client::SIGN_IN_FAILURES_PER_ADDRESS.burst;
    for n in 0..burst {
        let wrong = sprayer
            .sign_in(&format!("nobody{n}@acme.example"), "guess")
            .await;
        assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let throttled = sprayer.sign_in("someone@acme.example", "guess").await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().get(RETRY_AFTER).is_some());
    assert!(
        text(throttled)
            .await
            .contains("Too many failed sign-ins from your network")
    );
    let elsewhere = app.browser_from("198.51.100.10");
    let wrong = elsewhere.sign_in("nobody@acme.example", "guess").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn guessing_a_tenants_token_from_many_addresses_leaves_its_known_token_working() {
    let app = behind_a_trusted_proxy();
    let tenant = app.create_tenant(TenantFixture::new("Acme")).await;
    let issued = app.issue_token(tenant.id, chrono::Utc::now()).await;
    let send = |address: String, token: String| {
        app.scim(reqwest::Method::GET, tenant.id, "/Users", &token)
            .header("x-forwarded-for", address)
            .send()
    };
    // The identity provider's token, verified (and remembered) before the attack. The server
    // remembers tokens once it listens for token changes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !app.listening_for_tokens() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let ok = send("192.0.2.1".into(), issued.token.clone())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ok.status(), StatusCode::OK);
    let wrong = "scim_wrongwrongwrongwrongwrongwrongwrongwrong1";
    let burst = scim_api::auth::FAILED_AUTH_PER_TENANT.burst;
    let mut throttled = None;
    for n in 0..=burst {
        let answer = send(format!("10.1.{}.{}", n / 250, n % 250 + 1), wrong.into())
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        if answer.status() == StatusCode::TOO_MANY_REQUESTS {
            throttled = Some(n);
            assert!(answer.headers().get(RETRY_AFTER).is_some());
            break;
        }
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        throttled,
        Some(burst),
        "the tenant's bucket, not one address's"
    );
    let still = send("192.0.2.1".into(), issued.token)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        still.status(),
        StatusCode::OK,
        "the known token keeps working"
    );
}

#[tokio::test]
async fn the_openid_client_secret_saved_in_the_console_is_stored_encrypted() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let saved = admin
        .submit(
            "/console/settings/sign-in",
            "/console/settings/sign-in",
            &[
                ("auth_type", "openid"),
                ("issuer", "https://idp.example/"),
                ("client_id", "insights"),
                ("client_secret", "brand-new-client-secret"),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    let tenant = admin.tenant.id;
    let stored: Option<String> = app
        .db()
        .run(tenant, move |conn| {
            use tenancy::schema::tenants;
            Ok::<_, tenancy::Error>(
                tenants::table
                    .find(tenant)
                    .select(tenants::oidc_client_secret)
                    .first(conn)?,
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let stored = stored.unwrap_or_default();
    assert!(stored.starts_with("v1:"), "{stored}");
    assert!(!stored.contains("brand-new-client-secret"));
}
