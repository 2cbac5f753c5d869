//! The CSRF token and the origin check of every console form: a forged submission is refused
//! with 403 and changes nothing.

use chrono::Utc;
use reqwest::StatusCode;
use reqwest::header::{ORIGIN, REFERER};
use tenancy::directory::cards;
use tenancy::{admins, imports, scim_tokens, tenants};

use super::POST_ACTIONS;

/// The forms sent before there is a session.
const PRE_SESSION: &[&str] = &["/login", "/login/code", "/invitations/{token}"];
use crate::helpers::{Admin, Part, TestApp, spawn_app, text};

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
        .run(tenant, move |conn| {
            cards::add(
                conn,
                tenant,
                user,
                "C-1",
                tenancy::stored::CardSource::Console,
                Utc::now(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .id;
    let old = app.issue_token(tenant, Utc::now()).await;
    app.issue_token(tenant, Utc::now()).await;
    let invitation = app
        .db()
        .run(tenant, move |conn| {
            admins::invitations::invite(
                conn,
                tenant,
                "bob@acme.example",
                tenancy::stored::AdminRole::Viewer,
                &tenancy::audit::Actor::operator(),
                Utc::now(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .0
        .id;
    let before = fingerprint(&app, &admin).await;

    for action in POST_ACTIONS {
        let path = action
            .replace("{user}", &user.to_string())
            .replace("{card}", &card.to_string())
            .replace("{token}", &old.record.id.to_string())
            .replace("{endpoint}", &tenancy::EndpointId::new_random().to_string())
            .replace("{trip}", &uuid::Uuid::new_v4().to_string())
            .replace("{admin}", &uuid::Uuid::new_v4().to_string())
            .replace("{invitation}", &invitation.to_string())
            .replace("{group}", &uuid::Uuid::new_v4().to_string());
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

/// The forgery test above covers every unsafe route the console declares: a new form added to
/// `console::routes::ACTIONS` without a case here fails this test, and a POST route missing
/// from that list is refused by the console's guard before any handler runs.
#[test]
fn every_declared_console_action_is_in_the_forgery_test() {
    let shape = |path: &str| -> String {
        path.split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "{}"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/")
    };
    let tested: Vec<String> = POST_ACTIONS.iter().map(|path| shape(path)).collect();
    let actions: Vec<&str> = console::routes::actions().collect();
    for action in &actions {
        // Sign-in and accepting an invitation have no session yet; their double-submit token
        // and origin checks are tested in console::auth and console::admins.
        if PRE_SESSION.contains(action) {
            continue;
        }
        let path = shape(&format!("/console{action}"));
        assert!(tested.contains(&path), "{path} is not in POST_ACTIONS");
    }
    assert_eq!(tested.len(), actions.len() - PRE_SESSION.len());
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
        "/console/settings/sign-in/test" => {
            vec![("auth_type", "openid"), ("issuer", "http://127.0.0.1:1")]
        }
        p if p.ends_with("/cards") => vec![("card_number", "FORGED-1")],
        p if p.ends_with("/notifications/spike") => vec![("users", "1")],
        p if p.ends_with("/safety/revoke-all") => vec![("confirm", "REVOKE")],
        p if p.ends_with("/safety/adoption") => vec![("adoption", "link")],
        "/console/admins/sign-in" => vec![("password_sign_in", "owners"), ("mfa_required", "on")],
        "/console/admins/groups" => vec![("group", "Forged"), ("role", "owner")],
        p if p.starts_with("/console/mfa/") => vec![("code", "000000")],
        p if p.ends_with("/notifications/endpoints") => {
            vec![("url", "https://evil.example/hook")]
        }
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
        .run(tenant, move |conn| -> Result<String, tenancy::Error> {
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
            let endpoints = tenancy::notifications::endpoints::list(conn, tenant)?.len();
            let spike = tenancy::notifications::occasions::own_spike_threshold(conn, tenant)?;
            let deliveries = tenancy::notifications::deliveries::recent(conn, tenant, 100)?.len();
            let row = tenants::find(conn, tenant)?;
            let safety = (
                row.provisioning_paused_at,
                row.adoption,
                tenancy::safety::deleted::count(conn, tenant)?,
                tenancy::safety::adoption::waiting(conn, tenant)?,
                tenancy::safety::breaker::open_trip(conn, tenant)?.map(|t| t.id),
                row.shadow_tenant_id,
            );
            let admins_now: Vec<String> = admins::list(conn, tenant)?
                .iter()
                .map(|a| format!("{}:{}:{:?}", a.email, a.role, a.totp_secret.is_some()))
                .collect();
            let console_sign_in = (
                row.console_provider_sign_in,
                row.password_sign_in,
                row.mfa_required,
                admins::provider::group_roles(conn, tenant)?.len(),
            );
            let invitations = admins::invitations::pending(conn, tenant, Utc::now())?.len();
            let audited = tenancy::audit::list(
                conn,
                tenant,
                &tenancy::audit::AuditFilter::default(),
                1000,
            )?
            .iter()
            .filter(|row| row.action != tenancy::stored::AuditAction::SignIn)
            .count();
            let hashes: Vec<String> = admins::find_by_email(conn, &email)?
                .into_iter()
                .filter_map(|a| a.password_hash)
                .collect();
            Ok(format!(
                "tokens={tokens:?} cards={cards} users={users} jobs={jobs} endpoints={endpoints} spike={spike:?} deliveries={deliveries} auth={} retention={:?} hashes={hashes:?} safety={safety:?} admins={admins_now:?} invitations={invitations} audited={audited} console_sign_in={console_sign_in:?}",
                row.auth_type, row.event_retention_days
            ))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}
