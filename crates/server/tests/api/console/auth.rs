//! Admin sign-in, sessions, the forced password change, back-off, sign-out, and the CSRF and
//! origin checks of every form.

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{COOKIE, ORIGIN, REFERER, SET_COOKIE};
use tenancy::directory::cards;
use tenancy::{TenantId, admins, imports, scim_tokens, tenants};
use uuid::Uuid;

use super::{GET_PAGES, POST_ACTIONS};
use crate::helpers::{Admin, Part, TenantFixture, TestApp, location, spawn_app, text};

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
    assert!(
        cookie_attributes(&signed_in).contains("HttpOnly"),
        "HttpOnly"
    );

    let by_get = browser.get("/console/logout").await;
    assert_ne!(
        by_get.status(),
        StatusCode::SEE_OTHER,
        "GET does not sign out"
    );
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

/// How a forged submission differs from a real one.
#[derive(Debug, Clone, Copy)]
enum Forgery {
    NoToken,
    WrongToken,
    ForeignOrigin,
    ForeignReferer,
}

#[tokio::test]
async fn forms_without_their_csrf_token_or_from_another_origin_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    // Something for every form to act on: a user with a card, a token in its overlap.
    let user = app
        .insert_user(
            tenant,
            serde_json::json!({ "userName": "ann@acme.example" }),
            "console",
        )
        .await;
    let card = app
        .db()
        .run(move |conn| cards::add(conn, tenant, user, "C-1", "console", Utc::now()))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .id;
    let old = app.issue_token(tenant, Utc::now()).await;
    app.issue_token(tenant, Utc::now()).await;
    let before = fingerprint(&app, &admin).await;

    for action in POST_ACTIONS {
        let path = action
            .replace("{user}", &user.to_string())
            .replace("{card}", &card.to_string())
            .replace("{token}", &old.record.id.to_string());
        for forgery in [
            Forgery::NoToken,
            Forgery::WrongToken,
            Forgery::ForeignOrigin,
            Forgery::ForeignReferer,
        ] {
            let response = forge(&admin, &path, forgery).await;
            let status = response.status();
            let html = text(response).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "POST {path} {forgery:?}");
            assert!(
                html.contains("This form has expired"),
                "POST {path} {forgery:?}: {html}"
            );
        }
    }

    assert_eq!(fingerprint(&app, &admin).await, before);
    assert_eq!(admin.get("/console/users").await.status(), StatusCode::OK);
}

/// Submits the form at `path` with valid fields but forged in the way given.
async fn forge(admin: &Admin, path: &str, forgery: Forgery) -> reqwest::Response {
    let csrf = admin.csrf("/console/users").await;
    let token = match forgery {
        Forgery::NoToken => None,
        Forgery::WrongToken => Some("0".repeat(32)),
        Forgery::ForeignOrigin | Forgery::ForeignReferer => Some(csrf),
    };
    let password = admin.tenant.password.clone();
    if path == "/console/import" {
        let mut parts = vec![
            Part::Text("kind", "users"),
            Part::File("users.csv", b"userName\nnew@acme.example\n"),
        ];
        if let Some(token) = &token {
            parts.push(Part::Text("csrf", token));
        }
        if matches!(forgery, Forgery::ForeignOrigin | Forgery::ForeignReferer) {
            // `post_multipart` always sends our Origin; a forged one goes by hand.
            return forged_multipart(admin, path, &parts, forgery).await;
        }
        return admin.post_multipart(path, &parts).await;
    }
    let mut fields: Vec<(&str, &str)> = match path {
        "/console/password" => vec![
            ("current", password.as_str()),
            ("new_password", "a forged new password"),
            ("confirm", "a forged new password"),
        ],
        "/console/secure/advanced/user-group-sync/token" => vec![("request_id", "forged")],
        "/console/settings/sign-in" => vec![("auth_type", "password"), ("confirm", "yes")],
        p if p.ends_with("/cards") => vec![("card_number", "FORGED-1")],
        _ => vec![],
    };
    if let Some(token) = &token {
        fields.push(("csrf", token));
    }
    let request = admin
        .client
        .post(format!("{}{path}", admin.base))
        .form(&fields);
    let request = match forgery {
        Forgery::ForeignOrigin => request.header(ORIGIN, "https://evil.example"),
        Forgery::ForeignReferer => request.header(REFERER, "https://evil.example/page"),
        _ => request.header(ORIGIN, &admin.base),
    };
    request.send().await.unwrap_or_else(|e| panic!("{e}"))
}

async fn forged_multipart(
    admin: &Admin,
    path: &str,
    parts: &[Part<'_>],
    forgery: Forgery,
) -> reqwest::Response {
    let boundary = "forged-boundary";
    let mut body = String::new();
    for part in parts {
        body.push_str(&format!("--{boundary}\r\n"));
        match part {
            Part::Text(name, value) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )),
            Part::File(file_name, content) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: text/csv\r\n\r\n{}\r\n",
                String::from_utf8_lossy(content)
            )),
        }
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let (header, value) = match forgery {
        Forgery::ForeignReferer => (REFERER, "https://evil.example/page"),
        _ => (ORIGIN, "https://evil.example"),
    };
    admin
        .client
        .post(format!("{}{path}", admin.base))
        .header(
            reqwest::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header(header, value)
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// Everything a console form can change for the admin's tenant, as one comparable string.
async fn fingerprint(app: &TestApp, admin: &Admin) -> String {
    let tenant = admin.tenant.id;
    let email = admin.tenant.email.clone();
    app.db()
        .run(move |conn| -> Result<String, tenancy::Error> {
            let tokens: Vec<String> = scim_tokens::list(conn, tenant, 100)?
                .iter()
                .map(|t| format!("{}:{:?}:{:?}", t.id, t.revoked_at, t.retire_after))
                .collect();
            let cards = cards::count(conn, tenant)?;
            let users = tenancy::directory::users::count(
                conn,
                tenant,
                &tenancy::directory::Condition::always(),
            )?;
            let jobs = imports::recent_jobs(conn, tenant, 100)?.len();
            let row = tenants::find(conn, tenant)?;
            let hashes: Vec<String> = admins::find_by_email(conn, &email)?
                .into_iter()
                .map(|a| a.password_hash)
                .collect();
            Ok(format!(
                "tokens={tokens:?} cards={cards} users={users} jobs={jobs} auth={} hashes={hashes:?}",
                row.auth_type
            ))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn tokens_of(app: &TestApp, tenant: TenantId) -> Vec<scim_tokens::ScimTokenRow> {
    app.db()
        .run(move |conn| scim_tokens::list(conn, tenant, 100))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn password_hash(app: &TestApp, email: &str) -> String {
    let email = email.to_owned();
    app.db()
        .run(move |conn| admins::find_by_email(conn, &email))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|a| a.password_hash)
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
        .replace("{event}", event)
}
