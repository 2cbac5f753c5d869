//! Two-step sign-in (TOTP) through real HTTP against a real database: enrolment with a QR code
//! and ten recovery codes, sign-in with a code (never the same time step twice) or a recovery
//! code (each once), the back-off after wrong codes, the organisation's "required" setting,
//! and an owner resetting a lost phone. The codes come from the same RFC 6238 generator an
//! authenticator app runs (fixed-clock vectors are unit tests in `tenancy::admins::mfa`).

use chrono::{Duration, Utc};
use reqwest::StatusCode;
use tenancy::admins::{self, mfa};
use tenancy::stored::AuditAction;

use super::admins::{audit_rows, count, invite_and_accept};
use crate::helpers::{Browser, TestApp, field_value, location, spawn_app, text};

/// The key typed instead of scanning, as the setup page shows it (grouped by four).
fn shown_secret(html: &str) -> String {
    let start = html
        .find("id=\"totp-secret\">")
        .unwrap_or_else(|| panic!("no secret on the page: {html}"))
        + 17;
    let end = html[start..].find('<').unwrap_or(0);
    html[start..start + end].replace(' ', "")
}

/// The recovery codes as the page shows them, once.
fn shown_codes(html: &str) -> Vec<String> {
    let start = html
        .find("id=\"recovery-codes\"")
        .and_then(|at| html[at..].find('>').map(|end| at + end + 1))
        .unwrap_or_else(|| panic!("no recovery codes on the page: {html}"));
    let end = html[start..].find("</textarea>").unwrap_or(0);
    html[start..start + end]
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Sets two-step sign-in up for `admin` through the page; the secret and the recovery codes.
async fn enrol(admin: &Browser) -> (String, Vec<String>) {
    let setup = admin
        .submit("/console/mfa", "/console/mfa/setup", &[])
        .await;
    assert_eq!(setup.status(), StatusCode::OK);
    let html = text(setup).await;
    assert!(
        html.contains("<svg role=\"img\""),
        "an inline QR code: {html}"
    );
    let secret = shown_secret(&html);
    let csrf = field_value(&html, "csrf").unwrap_or_default();

    let wrong = admin
        .post_form(
            "/console/mfa/confirm",
            &[("csrf", &csrf), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert!(text(wrong).await.contains("That code is not right"));

    // The previous step's code (one step of skew is allowed): the tests then have the current
    // and the next step for the codes that follow, each accepted once.
    let code = mfa::code_at(&secret, Utc::now() - Duration::seconds(30)).unwrap_or_default();
    let confirmed = admin
        .post_form("/console/mfa/confirm", &[("csrf", &csrf), ("code", &code)])
        .await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let html = text(confirmed).await;
    assert!(html.contains("Two-step sign-in is on"), "{html}");
    let codes = shown_codes(&html);
    (secret, codes)
}

/// Signs in with the password; the response (a redirect to the code page when MFA is on).
async fn password_step(app: &TestApp, email: &str, password: &str) -> (Browser, reqwest::Response) {
    let browser = app.browser();
    let response = browser.sign_in(email, password).await;
    (browser, response)
}

/// Submits `code` on the code page.
async fn code_step(browser: &Browser, code: &str) -> reqwest::Response {
    let html = browser.page("/console/login/code").await;
    let csrf = field_value(&html, "csrf").unwrap_or_default();
    browser
        .post_form("/console/login/code", &[("csrf", &csrf), ("code", code)])
        .await
}

#[tokio::test]
async fn enrolment_then_sign_in_with_a_code_once_and_a_recovery_code_once() {
    let app = spawn_app().await;
    let owner = app.login_admin().await;
    let (secret, codes) = enrol(&owner).await;
    assert_eq!(codes.len(), 10);
    assert!(
        codes
            .iter()
            .all(|c| c.len() == 14 && mfa::is_recovery_code(c))
    );

    // Stored sealed, and the recovery codes only hashed.
    let tenant = owner.tenant.id;
    let email = owner.tenant.email.clone();
    let (stored, code_rows): (String, String) = app
        .db()
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            use diesel::prelude::*;
            let admin = admins::find_by_email(conn, &email)?.remove(0);
            let rows: Vec<Vec<u8>> = tenancy::schema::admin_recovery_codes::table
                .select(tenancy::schema::admin_recovery_codes::code_hash)
                .load(conn)?;
            Ok((admin.totp_secret.unwrap_or_default(), format!("{rows:?}")))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(tenancy::sealed::SecretKeys::is_sealed(&stored), "{stored}");
    assert!(!stored.contains(&secret));
    for code in &codes {
        assert!(!code_rows.contains(code.as_str()));
    }

    // Password alone opens nothing but the code page.
    let (browser, response) =
        password_step(&app, &owner.tenant.email, &owner.tenant.password).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(location(&response).starts_with("/console/login/code"));
    let users = browser.get("/console/users").await;
    assert_eq!(users.status(), StatusCode::SEE_OTHER);
    assert!(location(&users).starts_with("/console/login"));

    let next = mfa::code_at(&secret, Utc::now()).unwrap_or_default();
    let signed_in = code_step(&browser, &next).await;
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "{}",
        text(signed_in).await
    );
    assert_eq!(browser.get("/console/users").await.status(), StatusCode::OK);

    // The same code again, in another sign-in: refused as a replay.
    let (again, _) = password_step(&app, &owner.tenant.email, &owner.tenant.password).await;
    let replayed = code_step(&again, &next).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    assert!(text(replayed).await.contains("That code is not right"));

    // A recovery code works once.
    let used = code_step(&again, &codes[3].to_uppercase()).await;
    assert_eq!(used.status(), StatusCode::SEE_OTHER);
    let (third, _) = password_step(&app, &owner.tenant.email, &owner.tenant.password).await;
    let reused = code_step(&third, &codes[3]).await;
    assert_eq!(reused.status(), StatusCode::UNAUTHORIZED);
    let page = owner.page("/console/mfa").await;
    assert!(page.contains("9 unused recovery codes"), "{page}");

    let rows = audit_rows(&app, tenant).await;
    assert_eq!(count(&rows, AuditAction::MfaEnabled), 1);
    let methods: Vec<String> = rows
        .iter()
        .filter(|r| r.action == AuditAction::SignIn)
        .map(|r| r.detail["method"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(methods.contains(&"password and authenticator code".to_owned()));
    assert!(methods.contains(&"password and recovery code".to_owned()));
    let wrong = rows
        .iter()
        .filter(|r| r.action == AuditAction::SignInFailed)
        .filter(|r| r.detail["reason"] == "wrong authentication code")
        .count();
    assert_eq!(wrong, 2, "the replay and the reused recovery code");
    // No secret or recovery code in the audit log.
    let all = format!("{rows:?}");
    assert!(!all.contains(&secret));
    assert!(codes.iter().all(|c| !all.contains(c.as_str())));
}

#[tokio::test]
async fn wrong_codes_back_off_like_wrong_passwords() {
    let app = spawn_app().await;
    let owner = app.login_admin().await;
    let (secret, _) = enrol(&owner).await;
    let (browser, _) = password_step(&app, &owner.tenant.email, &owner.tenant.password).await;
    for attempt in 0..admins::FREE_ATTEMPTS {
        let wrong = code_step(&browser, "123456").await;
        assert_eq!(
            wrong.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
    }
    // Now paused, even for the right code.
    let right = mfa::code_at(&secret, Utc::now() + Duration::seconds(30)).unwrap_or_default();
    let paused = code_step(&browser, &right).await;
    assert_eq!(paused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(paused.headers().contains_key("retry-after"));
    assert!(text(paused).await.contains("sign-in is paused"));
    assert_eq!(
        browser.get("/console/users").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_required_second_factor_must_be_set_up_before_anything_else() {
    let app = spawn_app().await;
    let owner = app.login_admin().await;
    let viewer = invite_and_accept(&app, &owner, "vic@acme.example", "viewer").await;
    let saved = owner
        .submit(
            "/console/admins",
            "/console/admins/sign-in",
            &[("password_sign_in", "everyone"), ("mfa_required", "on")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);

    // Both must set it up first; the page itself and sign-out stay open.
    for admin in [&owner.browser, &viewer] {
        let users = admin.get("/console/users").await;
        assert_eq!(users.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&users), "/console/mfa");
        let page = admin.page("/console/mfa").await;
        assert!(page.contains("Your organisation requires two-step sign-in"));
    }
    let (secret, _) = enrol(&viewer).await;
    assert_eq!(viewer.get("/console/users").await.status(), StatusCode::OK);
    // It cannot be turned off while required.
    let code = mfa::code_at(&secret, Utc::now() + Duration::seconds(30)).unwrap_or_default();
    let off = viewer
        .submit("/console/mfa", "/console/mfa/disable", &[("code", &code)])
        .await;
    assert_eq!(off.status(), StatusCode::BAD_REQUEST);
    assert!(text(off).await.contains("requires two-step sign-in"));

    // An owner resets the viewer's lost phone: the viewer must set it up again.
    let admins_page = owner.get("/console/admins").await;
    assert_eq!(
        location(&admins_page),
        "/console/mfa",
        "the owner has not set it up yet"
    );
    enrol(&owner).await;
    let viewer_id = app
        .db()
        .run(owner.tenant.id, |conn| {
            admins::find_by_email(conn, "vic@acme.example")
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .remove(0)
        .id;
    let reset = owner
        .submit(
            "/console/admins",
            &format!("/console/admins/{viewer_id}/mfa/reset"),
            &[],
        )
        .await;
    assert_eq!(reset.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&viewer.get("/console/users").await),
        "/console/mfa"
    );
    let rows = audit_rows(&app, owner.tenant.id).await;
    assert_eq!(count(&rows, AuditAction::ConsoleSignInChanged), 1);
    assert_eq!(count(&rows, AuditAction::MfaEnabled), 2);
    assert_eq!(count(&rows, AuditAction::MfaDisabled), 1);
}

#[tokio::test]
async fn turning_it_off_and_new_recovery_codes_need_a_current_code() {
    let app = spawn_app().await;
    let owner = app.login_admin().await;
    let (secret, old_codes) = enrol(&owner).await;
    let renewed = owner
        .submit(
            "/console/mfa",
            "/console/mfa/recovery-codes",
            &[("code", "999999")],
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::BAD_REQUEST);
    let code = mfa::code_at(&secret, Utc::now()).unwrap_or_default();
    let renewed = owner
        .submit(
            "/console/mfa",
            "/console/mfa/recovery-codes",
            &[("code", &code)],
        )
        .await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let new_codes = shown_codes(&text(renewed).await);
    assert_eq!(new_codes.len(), 10);
    assert!(new_codes.iter().all(|c| !old_codes.contains(c)));

    // The old codes no longer sign in; a new one does.
    let (browser, _) = password_step(&app, &owner.tenant.email, &owner.tenant.password).await;
    assert_eq!(
        code_step(&browser, &old_codes[0]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        code_step(&browser, &new_codes[0]).await.status(),
        StatusCode::SEE_OTHER
    );

    let later = mfa::code_at(&secret, Utc::now() + Duration::seconds(30)).unwrap_or_default();
    let off = owner
        .submit("/console/mfa", "/console/mfa/disable", &[("code", &later)])
        .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    let (plain, response) = password_step(&app, &owner.tenant.email, &owner.tenant.password).await;
    assert_eq!(location(&response), "/console");
    assert_eq!(plain.get("/console/users").await.status(), StatusCode::OK);
}
