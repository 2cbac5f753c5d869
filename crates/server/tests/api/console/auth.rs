//! Admin sign-in, sessions, the forced password change, back-off and sign-out.

use reqwest::StatusCode;
use reqwest::header::{COOKIE, REFERER, SET_COOKIE};
use tenancy::{TenantId, admins, scim_tokens};
use uuid::Uuid;

use super::{GET_PAGES, POST_ACTIONS};
use crate::helpers::{TenantFixture, TestApp, location, spawn_app, text};

#[tokio::test]
async fn every_console_page_and_form_requires_sign_in() {
    let app = spawn_app().await;
    let anonymous = app.browser();
    let id = Uuid::new_v4().to_string();

    for page in GET_PAGES {
        let path = fill(page, &id, "1");
        let response = anonymous.get(&path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(
            location(&response),
            format!("/console/login?next={}", path.replace('/', "%2F")),
            "GET {path}"
        );
    }
    for action in POST_ACTIONS {
        let path = fill(action, &id, "1");
        let response = anonymous.post_form(&path, &[("csrf", "x")]).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "POST {path}");
        assert!(
            location(&response).starts_with("/console/login?next="),
            "POST {path}"
        );
    }
    // After signing in, a form's sender comes back to the page the form was on (the action
    // itself answers POST only).
    let from_page = anonymous
        .client
        .post(format!("{}/console/users/{id}/cards", app.base))
        .header(
            REFERER,
            format!("{}/console/users/{id}?tab=cards", app.base),
        )
        .form(&[("csrf", "x"), ("card_number", "1")])
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        location(&from_page),
        format!("/console/login?next=%2Fconsole%2Fusers%2F{id}%3Ftab%3Dcards")
    );
    let no_referer = anonymous
        .post_form("/console/logout", &[("csrf", "x")])
        .await;
    assert_eq!(location(&no_referer), "/console/login?next=%2Fconsole");
    // A made-up session cookie is no session either.
    let forged = app
        .client
        .get(format!("{}/console/users", app.base))
        .header(
            COOKIE,
            format!("insights_session={}.{}", Uuid::new_v4(), "a".repeat(43)),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(forged.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for_but_never_off_site() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let browser = app.browser();

    let asked = browser.get("/console/users?q=ann").await;
    let back = browser
        .sign_in_to(
            &admin.tenant.email,
            &admin.tenant.password,
            Some("/console/users?q=ann"),
        )
        .await;
    let other = app.browser();
    let off_site = other
        .sign_in_to(
            &admin.tenant.email,
            &admin.tenant.password,
            Some("https://evil.example/console"),
        )
        .await;

    assert_eq!(
        location(&asked),
        "/console/login?next=%2Fconsole%2Fusers%3Fq%3Dann"
    );
    let login_page = browser
        .page("/console/login?next=%2Fconsole%2Fusers%3Fq%3Dann")
        .await;
    assert!(login_page.contains("value=\"/console/users?q=ann\""));
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&back), "/console/users?q=ann");
    assert_eq!(location(&off_site), "/console");
    assert_eq!(browser.get("/console/users").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_password_or_unknown_email_gets_a_message_and_no_session() {
    let app = spawn_app().await;
    let tenant = app.create_tenant(TenantFixture::new("Acme")).await;
    let browser = app.browser();

    let wrong = browser.sign_in(&tenant.email, "not the password").await;
    let status = wrong.status();
    let wrong_html = text(wrong).await;
    let unknown = browser
        .sign_in("nobody@acme.example", &tenant.password)
        .await;
    let unknown_status = unknown.status();
    let unknown_html = text(unknown).await;

    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(wrong_html.contains("The email or password is not right."));
    assert!(
        wrong_html.contains(&format!("value=\"{}\"", tenant.email)),
        "the email is kept in the form"
    );
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert!(unknown_html.contains("The email or password is not right."));
    assert_eq!(
        browser.get("/console/users").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_in_pauses_after_five_wrong_passwords() {
    let app = spawn_app().await;
    let tenant = app.create_tenant(TenantFixture::new("Acme")).await;
    let browser = app.browser();

    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(browser.sign_in(&tenant.email, "guess").await.status());
    }
    // Even the right password is refused while the pause lasts.
    let locked = browser.sign_in(&tenant.email, &tenant.password).await;
    let locked_status = locked.status();
    let html = text(locked).await;

    assert_eq!(statuses, vec![StatusCode::UNAUTHORIZED; 5]);
    assert_eq!(locked_status, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("Too many failed attempts"), "{html}");
    assert_eq!(
        browser.get("/console/users").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_one_time_password_must_be_changed_before_anything_else() {
    let app = spawn_app().await;
    let tenant = app.create_tenant(TenantFixture::new("Acme")).await;
    let browser = app.browser();
    let signed_in = browser.sign_in(&tenant.email, &tenant.password).await;
    let id = Uuid::new_v4().to_string();

    assert_eq!(location(&signed_in), "/console/password");
    for page in GET_PAGES.iter().filter(|p| **p != "/console/password") {
        let path = fill(page, &id, "1");
        let response = browser.get(&path).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "GET {path}");
        assert_eq!(location(&response), "/console/password", "GET {path}");
    }
    let csrf = browser.csrf("/console/password").await;
    let generate = browser
        .post_form(
            "/console/secure/advanced/user-group-sync/token",
            &[("csrf", &csrf), ("request_id", "r1")],
        )
        .await;
    assert_eq!(location(&generate), "/console/password");
    assert!(
        tokens_of(&app, tenant.id).await.is_empty(),
        "no token was minted"
    );
    let html = browser.page("/console/password").await;
    assert!(html.contains("You signed in with a one-time password"));

    let changed = browser
        .submit(
            "/console/password",
            "/console/password",
            &[
                ("current", &tenant.password),
                ("new_password", "a much better password"),
                ("confirm", "a much better password"),
            ],
        )
        .await;

    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&changed), "/console");
    let home = browser.get("/console").await;
    assert_eq!(location(&home), "/console/secure/advanced/user-group-sync");
    let page = browser
        .page("/console/secure/advanced/user-group-sync")
        .await;
    assert!(page.contains("Your password was changed."), "flash shown");
    let again = browser
        .page("/console/secure/advanced/user-group-sync")
        .await;
    assert!(!again.contains("Your password was changed."), "flash once");
    let old = app.browser();
    assert_eq!(
        old.sign_in(&tenant.email, &tenant.password).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_bad_password_change_gets_a_message_and_changes_nothing() {
    let app = spawn_app().await;
    let tenant = app.create_tenant(TenantFixture::new("Acme")).await;
    let browser = app.browser();
    browser.sign_in(&tenant.email, &tenant.password).await;
    let hash_before = password_hash(&app, &tenant.email).await;
    let attempts = [
        (
            "wrong current password",
            "not it",
            "a much better password",
            "a much better password",
            "The current password is not right.",
        ),
        (
            "mismatched new passwords",
            tenant.password.as_str(),
            "a much better password",
            "a much better passw0rd",
            "The new passwords do not match.",
        ),
        (
            "too short",
            tenant.password.as_str(),
            "short",
            "short",
            "at least 12 characters",
        ),
        (
            "same as before",
            tenant.password.as_str(),
            tenant.password.as_str(),
            tenant.password.as_str(),
            "different from the current one",
        ),
    ];

    for (case, current, new_password, confirm, message) in attempts {
        let response = browser
            .submit(
                "/console/password",
                "/console/password",
                &[
                    ("current", current),
                    ("new_password", new_password),
                    ("confirm", confirm),
                ],
            )
            .await;
        let status = response.status();
        let html = text(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert!(html.contains(message), "{case}: {html}");
        assert!(html.contains("role=\"alert\""), "{case}");
    }

    assert_eq!(password_hash(&app, &tenant.email).await, hash_before);
    assert_eq!(
        location(&browser.get("/console/users").await),
        "/console/password",
        "still a one-time password"
    );
}

#[tokio::test]
async fn a_password_change_signs_out_the_admins_other_sessions() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let other = app.browser();
    other
        .sign_in(&admin.tenant.email, &admin.tenant.password)
        .await;
    assert_eq!(other.get("/console/users").await.status(), StatusCode::OK);

    let changed = admin
        .submit(
            "/console/password",
            "/console/password",
            &[
                ("current", &admin.tenant.password),
                ("new_password", "yet another good password"),
                ("confirm", "yet another good password"),
            ],
        )
        .await;

    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(admin.get("/console/users").await.status(), StatusCode::OK);
    assert_eq!(
        other.get("/console/users").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_out_is_a_post_and_ends_the_session_for_good() {
    let app = spawn_app().await;
    let tenant = app.create_tenant(TenantFixture::new("Acme")).await;
    let browser = app.browser();
    let signed_in = browser.sign_in(&tenant.email, &tenant.password).await;
    let cookie = signed_in
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("insights_session="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no session cookie"))
        .to_owned();
    let with_old_cookie = |path: &'static str| {
        let request = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
            .get(format!("{}{path}", app.base))
            .header(COOKIE, cookie.clone());
        async move { request.send().await.unwrap_or_else(|e| panic!("{e}")) }
    };
    assert_eq!(
        with_old_cookie("/console/password").await.status(),
        StatusCode::OK
    );
    let attributes = cookie_attributes(&signed_in);
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(attributes.contains(attribute), "{attribute}: {attributes}");
    }
    let page = browser.get("/console/password").await;
    for (header, value) in [
        ("cache-control", "no-store"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
    ] {
        assert_eq!(
            page.headers().get(header).and_then(|v| v.to_str().ok()),
            Some(value),
            "{header}"
        );
    }

    // A typed or bookmarked sign-out address leads back to the console without signing out:
    // signing out takes the form (POST with the CSRF token).
    let by_get = browser.get("/console/logout").await;
    assert_eq!(by_get.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&by_get), "/console", "GET does not sign out");
    assert_eq!(
        with_old_cookie("/console/password").await.status(),
        StatusCode::OK
    );
    let csrf = browser.csrf("/console/password").await;
    let out = browser
        .post_form("/console/logout", &[("csrf", &csrf)])
        .await;

    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&out), "/console/login");
    assert_eq!(
        browser.get("/console/password").await.status(),
        StatusCode::SEE_OTHER
    );
    let replayed = with_old_cookie("/console/password").await;
    assert_eq!(replayed.status(), StatusCode::SEE_OTHER);
    assert!(location(&replayed).starts_with("/console/login"));
}

#[tokio::test]
async fn the_sign_in_form_needs_its_csrf_cookie_and_our_origin() {
    let app = spawn_app().await;
    let tenant = app.create_tenant(TenantFixture::new("Acme")).await;
    let browser = app.browser();
    let html = browser.page("/console/login").await;
    let csrf = crate::helpers::field_value(&html, "csrf").unwrap_or_default();
    let fields = [
        ("csrf", csrf.as_str()),
        ("email", tenant.email.as_str()),
        ("password", tenant.password.as_str()),
    ];

    let foreign = browser
        .post_form_from("/console/login", &fields, Some("https://evil.example"))
        .await;
    let cookieless = app.browser().post_form("/console/login", &fields).await;
    let wrong_field = browser
        .post_form(
            "/console/login",
            &[
                ("csrf", "wrong"),
                ("email", &tenant.email),
                ("password", &tenant.password),
            ],
        )
        .await;

    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
    assert_eq!(cookieless.status(), StatusCode::FORBIDDEN);
    assert_eq!(wrong_field.status(), StatusCode::FORBIDDEN);
    assert!(text(wrong_field).await.contains("This form has expired"));
    assert_eq!(
        browser.get("/console/password").await.status(),
        StatusCode::SEE_OTHER
    );
}

async fn tokens_of(app: &TestApp, tenant: TenantId) -> Vec<scim_tokens::ScimTokenRow> {
    app.db()
        .run(tenant, move |conn| scim_tokens::list(conn, tenant, 100))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn password_hash(app: &TestApp, email: &str) -> String {
    let email = email.to_owned();
    app.db()
        .run_across_tenants(tenancy::CrossTenant::SignIn, move |conn| {
            admins::find_by_email(conn, &email)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .filter_map(|a| a.password_hash)
        .collect()
}

fn cookie_attributes(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("insights_session="))
        .unwrap_or_default()
        .to_owned()
}

/// A page or action path with its id placeholders filled.
fn fill(path: &str, id: &str, event: &str) -> String {
    path.replace("{user}", id)
        .replace("{group}", id)
        .replace("{job}", id)
        .replace("{card}", id)
        .replace("{token}", id)
        .replace("{endpoint}", id)
        .replace("{admin}", id)
        .replace("{invitation}", id)
        .replace("{event}", event)
}

#[tokio::test]
async fn the_bare_address_leads_to_the_console_and_from_there_to_sign_in() {
    let app = spawn_app().await;
    let anonymous = app.browser();
    let root = anonymous.get("/").await;
    assert_eq!(root.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&root), "/console");
    let console = anonymous.get("/console").await;
    assert_eq!(console.status(), StatusCode::SEE_OTHER);
    assert!(
        location(&console).starts_with("/console"),
        "{}",
        location(&console)
    );
}
