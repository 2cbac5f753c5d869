//! Console sign-in through the tenant's identity provider, against the real OpenID provider
//! the end-user tests use: the role comes from the groups (pushed over SCIM) the tenant maps
//! to roles, someone in none of them is refused with a page that says so, and leaving the
//! group, deactivation or the policy changing end the console session at its next request.
//! Also passwords for owners only.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;
use tenancy::admins::{self, provider};
use tenancy::audit::{Actor, AuditFilter};
use tenancy::stored::{AdminRole, AuditAction, PasswordSignIn};
use tenancy::{GroupId, TenantId, UserId, scim_tokens};

use crate::console::admins::invite_and_accept;
use crate::helpers::{Browser, TestApp, location, text};
use crate::oidc::{World, browser, walk, world};

/// A password owner of the world's tenant, signed in (one-time password replaced).
async fn owner(app: &TestApp, tenant: TenantId) -> (Browser, String) {
    let (admin, one_time) = app
        .db()
        .run(tenant, move |conn| {
            admins::create_with_one_time_password(conn, tenant, "owner@acme.example")
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let browser = app.browser();
    browser.sign_in(&admin.email, &one_time).await;
    let password = "correct horse battery staple";
    let changed = browser
        .submit(
            "/console/password",
            "/console/password",
            &[
                ("current", one_time.as_str()),
                ("new_password", password),
                ("confirm", password),
            ],
        )
        .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    (browser, password.to_owned())
}

/// Turns console sign-in through the provider on (passwords as `passwords`), through the
/// owner's Admins page.
async fn allow_provider(owner: &Browser, passwords: PasswordSignIn) {
    let saved = owner
        .submit(
            "/console/admins",
            "/console/admins/sign-in",
            &[
                ("provider_sign_in", "on"),
                ("password_sign_in", passwords.as_str()),
            ],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
}

/// Lets the group `name` grant `role`, through the owner's Admins page.
async fn map_group(owner: &Browser, name: &str, role: &str) {
    let granted = owner
        .submit(
            "/console/admins",
            "/console/admins/groups",
            &[("group", name), ("role", role)],
        )
        .await;
    assert_eq!(granted.status(), StatusCode::SEE_OTHER);
}

/// Lets the group `name` grant `role` and turns provider sign-in on (or off), straight through
/// `tenancy`, as the operator.
async fn arrange(world: &World, grant: Option<(&str, AdminRole)>, provider_sign_in: bool) {
    let tenant = world.tenant;
    let grant = grant.map(|(name, role)| (name.to_owned(), role));
    world
        .app
        .db()
        .run(tenant, move |conn| -> Result<(), tenancy::Error> {
            let operator = Actor::operator();
            if let Some((name, role)) = grant {
                provider::grant(conn, tenant, &name, role, &operator, Utc::now())?;
            }
            let policy = provider::ConsolePolicy {
                provider_sign_in,
                password_sign_in: PasswordSignIn::Everyone,
                mfa_required: false,
            };
            provider::set_policy(conn, tenant, &policy, &operator, Utc::now())?;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
}

fn console_sign_in(world: &World) -> String {
    format!("{}/console/sso/{}", world.app.base, world.tenant)
}

/// A SCIM token for the world's tenant.
async fn token(world: &World) -> String {
    let tenant = world.tenant;
    world
        .app
        .db()
        .run(tenant, move |conn| {
            scim_tokens::issue(conn, tenant, Utc::now(), chrono::Duration::days(7))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .token
}

/// A SCIM PATCH, as the identity provider sends it.
async fn scim_patch(world: &World, token: &str, path: &str, operation: serde_json::Value) {
    let response = reqwest::Client::new()
        .patch(format!(
            "{}/scim/v2/{}/{path}",
            world.app.base, world.tenant
        ))
        .bearer_auth(token)
        .header("Content-Type", "application/scim+json")
        .body(
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [operation],
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        response.status().is_success(),
        "PATCH {path}: {}",
        response.status()
    );
}

async fn leave_group(world: &World, token: &str, group: GroupId, user: UserId) {
    scim_patch(
        world,
        token,
        &format!("Groups/{group}"),
        json!({ "op": "remove", "path": format!("members[value eq \"{user}\"]") }),
    )
    .await;
}

async fn console_sessions(world: &World) -> i64 {
    let tenant = world.tenant;
    world
        .app
        .db()
        .run(tenant, move |conn| -> Result<i64, tenancy::Error> {
            use diesel::prelude::*;
            use tenancy::schema::sessions;
            Ok(sessions::table
                .filter(sessions::tenant_id.eq(tenant))
                .filter(sessions::admin_id.is_not_null())
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn audit(world: &World) -> Vec<tenancy::audit::AuditRow> {
    let tenant = world.tenant;
    world
        .app
        .db()
        .run(tenant, move |conn| {
            tenancy::audit::list(conn, tenant, &AuditFilter::default(), 1000)
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// GET a console page with the provider-signed-in client.
async fn console_get(world: &World, client: &reqwest::Client, path: &str) -> reqwest::Response {
    client
        .get(format!("{}{path}", world.app.base))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn a_member_of_a_mapped_group_signs_in_with_its_role_which_follows_the_groups() {
    let world = world().await;
    let (owner, _) = owner(&world.app, world.tenant).await;
    let admins_group = world
        .app
        .insert_group(world.tenant, "Insights Admins", &[world.alice])
        .await;
    let owners_group = world
        .app
        .insert_group(world.tenant, "Insights Owners", &[])
        .await;
    allow_provider(&owner, PasswordSignIn::Everyone).await;
    map_group(&owner, "insights admins", "admin").await;
    map_group(&owner, "Insights Owners", "owner").await;

    let client = browser();
    let signed_in = walk(&client, &console_sign_in(&world), "alice", false).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
    assert!(
        signed_in.body.contains("You are signed in"),
        "{}",
        signed_in.body
    );
    let users = console_get(&world, &client, "/console/users").await;
    assert_eq!(users.status(), StatusCode::OK);
    let html = text(users).await;
    assert!(
        html.contains("alice@acme.example <span class=\"role\">(Admin)</span>"),
        "{html}"
    );
    assert!(
        !html.contains("href=\"/console/admins\""),
        "admins are not owners"
    );
    assert!(
        !html.contains("href=\"/console/mfa\""),
        "the provider handles the second factor"
    );

    // Joining the owners' group makes her an owner on her next request; leaving it, an admin.
    let token = token(&world).await;
    scim_patch(
        &world,
        &token,
        &format!("Groups/{owners_group}"),
        json!({ "op": "add", "path": "members", "value": [{ "value": world.alice.to_string() }] }),
    )
    .await;
    assert_eq!(
        console_get(&world, &client, "/console/admins")
            .await
            .status(),
        StatusCode::OK
    );
    leave_group(&world, &token, owners_group, world.alice).await;
    assert_eq!(
        console_get(&world, &client, "/console/admins")
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // The owners page lists her as a provider admin, without a role form.
    let page = owner.page("/console/admins").await;
    assert!(page.contains("through the identity provider"), "{page}");

    // Leaving the last mapped group ends the session at once.
    leave_group(&world, &token, admins_group, world.alice).await;
    let ended = console_get(&world, &client, "/console/users").await;
    assert_eq!(ended.status(), StatusCode::FORBIDDEN);
    assert!(text(ended).await.contains("no longer in a group"));
    assert_eq!(
        console_sessions(&world).await,
        1,
        "only the owner's session is left"
    );
    let after = console_get(&world, &client, "/console/users").await;
    assert_eq!(after.status(), StatusCode::SEE_OTHER);

    let rows = audit(&world).await;
    let sign_ins: Vec<_> = rows
        .iter()
        .filter(|r| r.action == AuditAction::SignIn && r.detail["method"] == "identity provider")
        .collect();
    assert_eq!(sign_ins.len(), 1);
    assert_eq!(sign_ins[0].actor, "alice@acme.example");
    assert_eq!(sign_ins[0].detail["role"], "admin");
    assert_eq!(
        rows.iter()
            .filter(|r| r.action == AuditAction::GroupRoleChanged)
            .count(),
        2
    );
}

#[tokio::test]
async fn someone_in_no_mapped_group_is_refused_with_a_page_that_says_so() {
    let world = world().await;
    let (owner, _) = owner(&world.app, world.tenant).await;
    world
        .app
        .insert_group(world.tenant, "Insights Admins", &[world.alice])
        .await;
    allow_provider(&owner, PasswordSignIn::Everyone).await;
    map_group(&owner, "Insights Admins", "viewer").await;

    let client = browser();
    let refused = walk(&client, &console_sign_in(&world), "bob", false).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("not in a group that gives access"),
        "{}",
        refused.body
    );
    assert_eq!(
        console_get(&world, &client, "/console/users")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let not_provisioned = walk(&browser(), &console_sign_in(&world), "mallory", false).await;
    assert_eq!(not_provisioned.status, StatusCode::FORBIDDEN);
    assert!(not_provisioned.body.contains("not been provisioned"));
    assert_eq!(console_sessions(&world).await, 1, "only the owner's");

    let reasons: Vec<String> = audit(&world)
        .await
        .iter()
        .filter(|r| r.action == AuditAction::SignInFailed)
        .map(|r| format!("{}: {}", r.actor, r.detail["reason"]))
        .collect();
    assert!(
        reasons.contains(
            &"bob@acme.example: \"not in a group that grants a console role\"".to_owned()
        ),
        "{reasons:?}"
    );
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    // A mapping to a group that does not exist is refused in words.
    let missing = owner
        .submit(
            "/console/admins",
            "/console/admins/groups",
            &[("group", "No Such Group"), ("role", "owner")],
        )
        .await;
    let page = owner.get(&location(&missing)).await;
    assert!(text(page).await.contains("No group is named"));
}

#[tokio::test]
async fn deactivation_and_turning_provider_sign_in_off_end_the_session_at_once() {
    let world = world().await;
    let tenant = world.tenant;
    let group = world
        .app
        .insert_group(tenant, "Insights Viewers", &[world.alice])
        .await;
    let bob = world
        .app
        .db()
        .run(tenant, move |conn| {
            tenancy::directory::users::find_by_user_name(conn, tenant, "bob@acme.example")
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .map(|u| u.id)
        .unwrap_or_else(|| panic!("bob is provisioned"));
    world
        .app
        .db()
        .run(tenant, move |conn| {
            tenancy::directory::groups::add_members(conn, tenant, group, &[bob])
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    arrange(&world, Some(("Insights Viewers", AdminRole::Viewer)), true).await;

    let alice = browser();
    assert_eq!(
        walk(&alice, &console_sign_in(&world), "alice", false)
            .await
            .status,
        StatusCode::OK
    );
    let bobs = browser();
    assert_eq!(
        walk(&bobs, &console_sign_in(&world), "bob", false)
            .await
            .status,
        StatusCode::OK
    );
    let page = text(console_get(&world, &alice, "/console/users").await).await;
    assert!(page.contains("(Viewer)"), "{page}");
    assert!(
        !page.contains("href=\"/console/import\""),
        "viewers do not import"
    );

    let token = token(&world).await;
    scim_patch(
        &world,
        &token,
        &format!("Users/{}", world.alice),
        json!({ "op": "replace", "value": { "active": false } }),
    )
    .await;
    let ended = console_get(&world, &alice, "/console/users").await;
    assert_eq!(ended.status(), StatusCode::FORBIDDEN);
    assert!(text(ended).await.contains("deactivated"));
    assert_eq!(
        console_get(&world, &bobs, "/console/users").await.status(),
        StatusCode::OK
    );

    // Provider sign-in off: bob's session ends too, and the address stops working.
    arrange(&world, None, false).await;
    let off = console_get(&world, &bobs, "/console/users").await;
    assert_eq!(off.status(), StatusCode::FORBIDDEN);
    assert!(text(off).await.contains("turned off"));
    let start = console_get(&world, &browser(), &format!("/console/sso/{tenant}")).await;
    assert_eq!(start.status(), StatusCode::NOT_FOUND);
    assert!(text(start).await.contains("does not let admins sign in"));
    assert_eq!(console_sessions(&world).await, 0);
}

#[tokio::test]
async fn an_end_user_sign_in_cannot_complete_at_the_console_callback() {
    let world = world().await;
    let tenant = world.tenant;
    world
        .app
        .insert_group(tenant, "Insights Owners", &[world.alice])
        .await;
    arrange(&world, Some(("Insights Owners", AdminRole::Owner)), true).await;
    let client = browser();
    let end_user = walk(
        &client,
        &format!("{}/t/{tenant}/login", world.app.base),
        "alice",
        true,
    )
    .await;
    let query = end_user
        .url
        .split_once('?')
        .map(|(_, q)| q.to_owned())
        .unwrap_or_default();
    let moved = console_get(
        &world,
        &client,
        &format!("/console/sso/{tenant}/callback?{query}"),
    )
    .await;
    assert_eq!(moved.status(), StatusCode::BAD_REQUEST);
    assert!(text(moved).await.contains("expired"));
    assert_eq!(console_sessions(&world).await, 0);
}

#[tokio::test]
async fn passwords_for_owners_only_keep_the_owners_way_in_and_end_the_others() {
    let world = world().await;
    let app = &world.app;
    let (owner, owner_password) = owner(app, world.tenant).await;
    // An admin with a password, by invitation.
    let ada = invite_and_accept(app, &owner, "ada@acme.example", "admin").await;
    let password = "a long enough password 42";
    assert_eq!(ada.get("/console/users").await.status(), StatusCode::OK);

    // Owners only: refused while the provider is off (no one else could sign in)…
    let refused = owner
        .submit(
            "/console/admins",
            "/console/admins/sign-in",
            &[("password_sign_in", "owners")],
        )
        .await;
    let page = owner.get(&location(&refused)).await;
    assert!(
        text(page)
            .await
            .contains("needs sign-in through the identity provider")
    );
    assert_eq!(ada.get("/console/users").await.status(), StatusCode::OK);
    // …then with it on.
    allow_provider(&owner, PasswordSignIn::Owners).await;
    let ended = ada.get("/console/users").await;
    assert_eq!(ended.status(), StatusCode::FORBIDDEN);
    assert!(text(ended).await.contains("passwords are kept for owners"));
    let again = app.browser().sign_in("ada@acme.example", password).await;
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    // The owner keeps the break-glass way in.
    let owner_again = app.browser();
    let signed_in = owner_again
        .sign_in("owner@acme.example", &owner_password)
        .await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        owner_again.get("/console/admins").await.status(),
        StatusCode::OK
    );
    let reasons: Vec<String> = audit(&world)
        .await
        .iter()
        .filter(|r| r.action == AuditAction::SignInFailed)
        .map(|r| r.detail["reason"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(reasons, ["password sign-in is for owners only"]);
}
