//! Test the connection: the console exercises the tenant's own SCIM endpoint through the public
//! Tenant URL with a token of its own, shows a timed checklist, leaves nothing in the directory,
//! leaves the identity provider's token alone, and runs one test at a time per tenant.

use chrono::Utc;
use reqwest::{Method, StatusCode};
use server::settings::Settings;
use testkit::TestDb;

use crate::helpers::{Admin, TestApp, location, spawn_app, spawn_app_with};

const SYNC: &str = "/console/secure/advanced/user-group-sync";
const TEST: &str = "/console/secure/advanced/user-group-sync/test";

async fn counts(app: &TestApp, admin: &Admin) -> (i64, i64, i64) {
    let tenant = admin.tenant.id;
    app.db()
        .run(tenant, move |conn| -> Result<_, tenancy::Error> {
            use tenancy::directory::{Condition, groups, users};
            let tokens = tenancy::scim_tokens::list(conn, tenant, 100)?.len() as i64;
            Ok((
                users::count(conn, tenant, &Condition::always())?,
                groups::count(conn, tenant, &Condition::always())?,
                tokens,
            ))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test]
async fn the_connection_test_passes_leaves_nothing_and_spares_the_real_token() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let real = app.issue_token(tenant, Utc::now()).await.token;
    let first = app
        .scim(Method::GET, tenant, "/ServiceProviderConfig", &real)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.status(), StatusCode::OK);

    let ran = admin.submit(SYNC, TEST, &[]).await;
    assert_eq!(ran.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&ran), format!("{SYNC}#connection-test"));
    let page = admin.page(SYNC).await;
    assert!(page.contains("Connection test passed: 13 steps."), "{page}");
    assert!(page.contains("Passed at"));
    for step in [
        "Read the ServiceProviderConfig",
        "Look up the user by userName (none yet)",
        "Create the user",
        "Replace the user (PUT)",
        "Deactivate the user",
        "Rename the group",
        "Add the user to the group",
        "Remove the user from the group",
        "Delete the group",
        "Check that the user is gone",
    ] {
        assert!(page.contains(step), "{step}");
    }
    assert!(!page.contains("class=\"problem\""), "{page}");

    // Nothing of the test stays; the identity provider's token is still the only one, current
    // and accepted; the test's requests are marked in Activity.
    assert_eq!(counts(&app, &admin).await, (0, 0, 1));
    let again = app
        .scim(Method::GET, tenant, "/ServiceProviderConfig", &real)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.status(), StatusCode::OK);
    assert!(
        !page.contains("Previous tokens"),
        "the test's token is not listed"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let activity = loop {
        let html = admin.page("/console/activity").await;
        if html.matches("Connection test</span>").count() >= 13
            || std::time::Instant::now() > deadline
        {
            break html;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(
        activity.matches("Connection test</span>").count(),
        13,
        "{activity}"
    );

    // One at a time: a test that is running (claimed a moment ago) refuses a second.
    app.db()
        .run(tenant, move |conn| {
            tenancy::connection_tests::claim(conn, tenant, Utc::now()).map(|won| assert!(won))
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let busy = admin.submit(SYNC, TEST, &[]).await;
    assert_eq!(busy.status(), StatusCode::SEE_OTHER);
    let page = admin.page(SYNC).await;
    assert!(
        page.contains("A connection test is already running"),
        "{page}"
    );
    assert!(page.contains("is running."));
}

#[tokio::test]
async fn a_tenant_url_that_does_not_reach_the_server_fails_the_first_step_with_the_fix() {
    let test_db = TestDb::new();
    let mut settings = Settings::for_tests(test_db.url());
    // Nothing listens on the discard port.
    settings.public_url = Some("http://127.0.0.1:9".into());
    let app = spawn_app_with(settings, test_db);
    let admin = app.login_admin().await;

    let ran = admin.submit(SYNC, TEST, &[]).await;
    assert_eq!(ran.status(), StatusCode::SEE_OTHER);
    let page = admin.page(SYNC).await;
    assert!(
        page.contains("Connection test failed: 1 of 1 steps."),
        "{page}"
    );
    assert!(page.contains("Insights could not reach http://127.0.0.1:9/scim/v2/"));
    assert!(page.contains("Check INSIGHTS_PUBLIC_URL"));
    assert_eq!(
        counts(&app, &admin).await,
        (0, 0, 0),
        "no token of the IdP appeared"
    );
}
