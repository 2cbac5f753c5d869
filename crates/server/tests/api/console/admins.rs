//! Several admins per tenant: every console route checked for every role (from the routes'
//! own table, so a new route cannot be missed), invitations, the last owner, removal ending
//! sessions, and the audit log written with each action.

use reqwest::StatusCode;
use tenancy::audit::{AuditFilter, AuditRow};
use tenancy::stored::{AdminRole, AuditAction};
use tenancy::{TenantId, admins};

use crate::helpers::{Browser, TestApp, field_value, location, spawn_app, text};

/// The invitation link on the Admins page after Invite.
fn link_in(html: &str) -> String {
    field_value(html, "invitation-link")
        .or_else(|| {
            let start = html.find("id=\"invitation-link\" type=\"text\" readonly value=\"")? + 49;
            let end = html[start..].find('"')?;
            Some(html[start..start + end].to_owned())
        })
        .unwrap_or_else(|| panic!("no invitation link on the page: {html}"))
}

/// Invites `email` as `role` through the Admins page, accepts in a fresh browser, and returns
/// that browser, signed in.
pub(crate) async fn invite_and_accept(
    app: &TestApp,
    owner: &Browser,
    email: &str,
    role: &str,
) -> Browser {
    let invited = owner
        .submit(
            "/console/admins",
            "/console/admins/invite",
            &[("email", email), ("role", role)],
        )
        .await;
    assert_eq!(invited.status(), StatusCode::OK);
    let link = link_in(&text(invited).await);
    let path = link
        .split_once("/console/")
        .map(|(_, rest)| format!("/console/{rest}"))
        .unwrap_or_else(|| panic!("bad link {link}"));
    let browser = app.browser();
    let form = browser.page(&path).await;
    assert!(form.contains(email), "{form}");
    let csrf = field_value(&form, "csrf").unwrap_or_default();
    let password = "a long enough password 42";
    let accepted = browser
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("new_password", password),
                ("confirm", password),
            ],
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::SEE_OTHER, "accepting {path}");
    assert_eq!(location(&accepted), "/console");
    // The link works once.
    let again = browser.get(&path).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert!(text(again).await.contains("has been used"));
    browser
}

pub(super) async fn audit_rows(app: &TestApp, tenant: TenantId) -> Vec<AuditRow> {
    app.db()
        .run(tenant, move |conn| {
            tenancy::audit::list(conn, tenant, &AuditFilter::default(), 10_000)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

pub(super) fn count(rows: &[AuditRow], action: AuditAction) -> usize {
    rows.iter().filter(|row| row.action == action).count()
}

#[tokio::test]
async fn every_console_route_answers_each_role_as_its_rule_says() {
    let app = spawn_app().await;
    let owner = app.login_admin().await;
    let admin = invite_and_accept(&app, &owner, "ada@acme.example", "admin").await;
    let viewer = invite_and_accept(&app, &owner, "vic@acme.example", "viewer").await;
    let id = uuid::Uuid::new_v4().to_string();
    let browsers = [
        (AdminRole::Owner, &owner.browser),
        (AdminRole::Admin, &admin),
        (AdminRole::Viewer, &viewer),
    ];
    let mut checked = 0;
    for rule in console::routes::RULES {
        let console::routes::Need::Role(needed) = rule.need else {
            continue;
        };
        // Signing out would end the session the rest of the test uses.
        if rule.pattern == "/logout" {
            continue;
        }
        let path = format!(
            "/console{}",
            rule.pattern
                .split('/')
                .map(|s| if s.starts_with('{') { id.as_str() } else { s })
                .collect::<Vec<_>>()
                .join("/")
        );
        for (role, browser) in &browsers {
            let response = if rule.method == "GET" {
                browser.get(&path).await
            } else {
                let csrf = browser.csrf("/console/password").await;
                browser.post_form(&path, &[("csrf", &csrf)]).await
            };
            let status = response.status();
            let html = text(response).await;
            if role.includes(needed) {
                assert_ne!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} {} {path}",
                    rule.method
                );
                assert!(
                    !status.is_server_error(),
                    "{role} {} {path}: {status}",
                    rule.method
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} {} {path}",
                    rule.method
                );
                assert!(html.contains("Not allowed"), "{role} {path}: {html}");
            }
            checked += 1;
        }
    }
    assert!(checked > 100, "only {checked} checks");

    // What a viewer may not do is not offered either.
    let page = viewer
        .page("/console/secure/advanced/user-group-sync")
        .await;
    for hidden in [
        "user-group-sync/token\"",
        "user-group-sync/test\"",
        "href=\"/console/secure/advanced/user-group-sync/safety\"",
        "href=\"/console/admins\"",
        "href=\"/console/audit\"",
        "href=\"/console/import\"",
    ] {
        assert!(!page.contains(hidden), "a viewer is offered {hidden}");
    }
    let page = admin.page("/console/users").await;
    assert!(page.contains("/console/audit") && !page.contains("href=\"/console/admins\""));
}

#[tokio::test]
async fn invitations_expire_work_once_and_only_in_their_tenant() {
    let app = spawn_app().await;
    let owner = app.login_admin().await;
    let tenant = owner.tenant.id;
    // Expired: the link says so, and nothing is created.
    let invited = owner
        .submit(
            "/console/admins",
            "/console/admins/invite",
            &[("email", "late@acme.example"), ("role", "viewer")],
        )
        .await;
    let link = link_in(&text(invited).await);
    let path = format!(
        "/console/{}",
        link.split_once("/console/").map(|(_, r)| r).unwrap_or("")
    );
    app.db()
        .run(tenant, move |conn| {
            use diesel::prelude::*;
            diesel::sql_query(
                "UPDATE admin_invitations SET expires_at = now() - interval '1 minute', \
                 created_at = now() - interval '7 days 1 minute'",
            )
            .execute(conn)
            .map_err(tenancy::Error::from)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let stranger = app.browser();
    let expired = stranger.get(&path).await;
    assert_eq!(expired.status(), StatusCode::GONE);
    assert!(text(expired).await.contains("has expired"));
    let csrf = field_value(&stranger.page("/console/login").await, "csrf").unwrap_or_default();
    let forced = stranger
        .post_form(
            &path,
            &[
                ("csrf", &csrf),
                ("new_password", "x".repeat(20).as_str()),
                ("confirm", "x".repeat(20).as_str()),
            ],
        )
        .await;
    assert_eq!(forced.status(), StatusCode::GONE);

    // Another tenant's id in front of the secret: no such invitation.
    let other = app
        .login_admin_of(crate::helpers::TenantFixture::new("Globex"))
        .await;
    let secret = path.rsplit_once('.').map(|(_, s)| s).unwrap_or_default();
    let foreign = stranger
        .get(&format!(
            "/console/invitations/{}.{secret}",
            other.tenant.id
        ))
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    // Another tenant's owner cannot touch this tenant's admins or invitations by id.
    let acme_admins = app
        .db()
        .run(tenant, move |conn| admins::list(conn, tenant))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let acme_owner = acme_admins[0].id;
    for (action, fields) in [
        (
            format!("/console/admins/{acme_owner}/role"),
            vec![("role", "viewer")],
        ),
        (format!("/console/admins/{acme_owner}/remove"), vec![]),
        (
            format!("/console/admins/invitations/{acme_owner}/revoke"),
            vec![],
        ),
    ] {
        let foreign = other.submit("/console/admins", &action, &fields).await;
        assert_eq!(foreign.status(), StatusCode::NOT_FOUND, "POST {action}");
    }
    let after = app
        .db()
        .run(tenant, move |conn| admins::list(conn, tenant))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].role, AdminRole::Owner);

    let garbage = stranger.get("/console/invitations/not-a-token").await;
    assert_eq!(garbage.status(), StatusCode::NOT_FOUND);
    assert!(text(garbage).await.contains("does not work"));

    // An address that is an admin already is refused in words; a bad role too.
    let again = owner
        .submit(
            "/console/admins",
            "/console/admins/invite",
            &[("email", &owner.tenant.email), ("role", "admin")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(text(again).await.contains("is already an admin"));
    let bad_role = owner
        .submit(
            "/console/admins",
            "/console/admins/invite",
            &[("email", "x@acme.example"), ("role", "emperor")],
        )
        .await;
    assert_eq!(bad_role.status(), StatusCode::BAD_REQUEST);

    // Withdrawn: the link stops working.
    let invited = owner
        .submit(
            "/console/admins",
            "/console/admins/invite",
            &[("email", "gone@acme.example"), ("role", "viewer")],
        )
        .await;
    let link = link_in(&text(invited).await);
    let path = format!(
        "/console/{}",
        link.split_once("/console/").map(|(_, r)| r).unwrap_or("")
    );
    let pending = app
        .db()
        .run(tenant, move |conn| {
            admins::invitations::pending(conn, tenant, chrono::Utc::now())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(pending.len(), 1);
    // The link's secret is nowhere in the database: not in the invitation, not in the audit log.
    let secret = path
        .rsplit_once('.')
        .map(|(_, s)| s.to_owned())
        .unwrap_or_default();
    assert_eq!(secret.len(), 43);
    let stored = app
        .db()
        .run(tenant, move |conn| {
            use diesel::prelude::*;
            #[derive(QueryableByName)]
            struct Text {
                #[diesel(sql_type = diesel::sql_types::Text)]
                t: String,
            }
            let rows: Vec<Text> = diesel::sql_query(
                "SELECT to_jsonb(i)::text AS t FROM admin_invitations i \
                 UNION ALL SELECT to_jsonb(a)::text FROM audit_log a",
            )
            .load(conn)?;
            Ok::<_, tenancy::Error>(rows.into_iter().map(|r| r.t).collect::<Vec<_>>().join("\n"))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(stored.contains("gone@acme.example"));
    assert!(
        !stored.contains(&secret),
        "the invitation's secret is stored"
    );
    // Accepting without the sign-in page's double-submit token is refused, and spends nothing.
    let forged = app
        .browser()
        .post_form(
            &path,
            &[
                ("csrf", "forged"),
                ("new_password", "a long enough password 42"),
                ("confirm", "a long enough password 42"),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_eq!(stranger.get(&path).await.status(), StatusCode::OK);
    let withdrawn = owner
        .submit(
            "/console/admins",
            &format!("/console/admins/invitations/{}/revoke", pending[0].id),
            &[],
        )
        .await;
    assert_eq!(withdrawn.status(), StatusCode::SEE_OTHER);
    assert_eq!(stranger.get(&path).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_last_owner_stays_and_a_removed_admin_is_signed_out_at_once() {
    let app = spawn_app().await;
    let owner = app.login_admin().await;
    let tenant = owner.tenant.id;
    let second = invite_and_accept(&app, &owner, "sam@acme.example", "owner").await;
    let db = app.db();
    let list = |tenant: TenantId| {
        let db = db.clone();
        async move {
            db.run(tenant, move |conn| admins::list(conn, tenant))
                .await
                .unwrap_or_else(|e| panic!("{e}"))
        }
    };
    let rows = list(tenant).await;
    let first_id = rows[0].id;
    let second_id = rows[1].id;
    // Two owners: the first may be demoted, by the second.
    let demoted = second
        .submit(
            "/console/admins",
            &format!("/console/admins/{first_id}/role"),
            &[("role", "viewer")],
        )
        .await;
    assert_eq!(demoted.status(), StatusCode::SEE_OTHER);
    assert_eq!(list(tenant).await[0].role, AdminRole::Viewer);
    // The first is a viewer at once, in the same session.
    assert_eq!(
        owner.get("/console/admins").await.status(),
        StatusCode::FORBIDDEN
    );
    // Now the second is the only owner: they cannot demote themselves.
    let refused = second
        .submit(
            "/console/admins",
            &format!("/console/admins/{second_id}/role"),
            &[("role", "admin")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert_eq!(list(tenant).await[1].role, AdminRole::Owner);
    let page = second.page("/console/admins").await;
    assert!(page.contains("only owner"), "{page}");
    // Nor can the operator remove the last owner.
    let by_operator = app
        .db()
        .run(tenant, move |conn| {
            admins::remove(
                conn,
                tenant,
                second_id,
                &tenancy::audit::Actor::operator(),
                chrono::Utc::now(),
            )
        })
        .await;
    assert!(matches!(by_operator, Err(tenancy::Error::Invalid(_))));
    // Removing the first ends their session at once.
    let removed = second
        .submit(
            "/console/admins",
            &format!("/console/admins/{first_id}/remove"),
            &[],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let after = owner.get("/console/users").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);
    assert!(location(&after).starts_with("/console/login"));
    let failed_again = owner
        .sign_in(&owner.tenant.email, &owner.tenant.password)
        .await;
    assert_eq!(failed_again.status(), StatusCode::UNAUTHORIZED);

    // Each change wrote exactly one audit entry; the refusals none.
    let rows = audit_rows(&app, tenant).await;
    assert_eq!(count(&rows, AuditAction::AdminInvited), 1);
    assert_eq!(count(&rows, AuditAction::InvitationAccepted), 1);
    assert_eq!(count(&rows, AuditAction::AdminRoleChanged), 1);
    assert_eq!(count(&rows, AuditAction::AdminRemoved), 1);
    let change = rows
        .iter()
        .find(|r| r.action == AuditAction::AdminRoleChanged)
        .unwrap_or_else(|| unreachable!());
    assert_eq!(change.actor, "sam@acme.example");
    assert_eq!(change.detail["before"], "owner");
    assert_eq!(change.detail["after"], "viewer");
}

#[tokio::test]
async fn each_admin_action_writes_exactly_one_audit_entry_shown_and_exported() {
    let app = spawn_app().await;
    let owner = app.login_admin().await;
    let tenant = owner.tenant.id;
    let page = "/console/secure/advanced/user-group-sync";
    let html = owner.page(page).await;
    let request_id = field_value(&html, "request_id").unwrap_or_default();
    let generated = owner
        .submit(
            page,
            "/console/secure/advanced/user-group-sync/token",
            &[("request_id", &request_id)],
        )
        .await;
    assert_eq!(generated.status(), StatusCode::OK);
    // The same submission again mints nothing, and audits nothing.
    owner
        .submit(
            page,
            "/console/secure/advanced/user-group-sync/token",
            &[("request_id", &request_id)],
        )
        .await;
    let safety = "/console/secure/advanced/user-group-sync/safety";
    owner.submit(safety, &format!("{safety}/pause"), &[]).await;
    owner.submit(safety, &format!("{safety}/resume"), &[]).await;
    owner
        .submit(
            safety,
            &format!("{safety}/revoke-all"),
            &[("confirm", "REVOKE")],
        )
        .await;
    owner
        .submit(
            "/console/settings/sign-in",
            "/console/settings/sign-in",
            &[("auth_type", "password"), ("confirm", "yes")],
        )
        .await;
    let wrong = app
        .browser()
        .sign_in(&owner.tenant.email, "not the password")
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let csrf = owner.csrf("/console/users").await;
    owner.post_form("/console/logout", &[("csrf", &csrf)]).await;

    let rows = audit_rows(&app, tenant).await;
    for (action, expected) in [
        (AuditAction::SignIn, 1),
        (AuditAction::PasswordChanged, 1),
        (AuditAction::TokenGenerated, 1),
        (AuditAction::ProvisioningPaused, 1),
        (AuditAction::ProvisioningResumed, 1),
        (AuditAction::TokensRevokedAll, 1),
        (AuditAction::SignInSettingsChanged, 1),
        (AuditAction::SignInFailed, 1),
        (AuditAction::SignOut, 1),
    ] {
        assert_eq!(count(&rows, action), expected, "{action}: {rows:#?}");
    }
    let failed = rows
        .iter()
        .find(|r| r.action == AuditAction::SignInFailed)
        .unwrap_or_else(|| unreachable!());
    assert_eq!(failed.detail["reason"], "wrong password");
    assert!(rows.iter().all(|r| r.client_addr.is_some()));
    let settings = rows
        .iter()
        .find(|r| r.action == AuditAction::SignInSettingsChanged)
        .unwrap_or_else(|| unreachable!());
    assert_eq!(settings.detail["before"]["sign_in"], "openid");
    assert_eq!(settings.detail["after"]["sign_in"], "password");
    // No secret anywhere in the log.
    let all = format!("{rows:?}");
    assert!(!all.contains("scim_"), "a token in the audit log");

    // The page and its export, for an owner signed in again.
    let back = app.browser();
    back.sign_in(&owner.tenant.email, &owner.tenant.password)
        .await;
    let listed = back.page("/console/audit?action=provisioning_paused").await;
    assert!(
        listed.contains("Provisioning paused") && !listed.contains("Provisioning resumed</td>")
    );
    let filtered = back.page("/console/audit?actor=nobody").await;
    assert!(filtered.contains("No entries match"));
    let bad = back.get("/console/audit?from=yesterday").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let csv = back.get("/console/audit/export").await;
    assert_eq!(csv.status(), StatusCode::OK);
    let csv = text(csv).await;
    assert!(csv.starts_with("time,actor,action,target,detail,client_address,user_agent\r\n"));
    assert!(csv.contains("tokens_revoked_all") && csv.contains("sign_in_failed"));
}
