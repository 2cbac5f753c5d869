//! User and Group Sync's Notifications panel over real HTTP: adding an endpoint shows its
//! secret once, bad URLs get a message, Send a test is delivered signed to a real receiver and
//! shows in the delivery log, disable and remove work, and another tenant cannot touch it.

use chrono::Utc;
use reqwest::StatusCode;
use testkit::http_receiver::HttpReceiver;

use crate::helpers::{TenantFixture, location, spawn_app};

const SYNC: &str = "/console/secure/advanced/user-group-sync";
const ENDPOINTS: &str = "/console/secure/advanced/user-group-sync/notifications/endpoints";

#[tokio::test]
async fn an_endpoint_is_added_with_its_secret_shown_once_tested_disabled_and_removed() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let receiver = HttpReceiver::start();

    let page = admin.page(SYNC).await;
    assert!(page.contains("Notifications"), "{page}");
    assert!(
        page.contains("E-mail is off"),
        "no SMTP relay in the tests' settings"
    );

    let refused = admin
        .submit(SYNC, ENDPOINTS, &[("url", "http://hooks.example.com/x")])
        .await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    let page = admin.page(&location(&refused)).await;
    assert!(page.contains("must use https://"), "{page}");

    let added = admin
        .submit(SYNC, ENDPOINTS, &[("url", &receiver.url())])
        .await;
    assert_eq!(added.status(), StatusCode::OK);
    let shown = crate::helpers::text(added).await;
    let secret =
        crate::helpers::input_value_by_id(&shown, "new-endpoint-secret").unwrap_or_default();
    assert!(secret.starts_with("whsec_"), "{shown}");
    let page = admin.page(SYNC).await;
    assert!(!page.contains(&secret), "the secret is shown once");
    assert!(
        page.contains(&secret[secret.len() - 4..]),
        "its last four characters stay"
    );
    assert!(page.contains("Active"));

    let sent = admin
        .submit(
            SYNC,
            "/console/secure/advanced/user-group-sync/notifications/test",
            &[],
        )
        .await;
    let page = admin.page(&location(&sent)).await;
    assert!(page.contains("A test was sent on 1 channel(s)"), "{page}");
    let delivered = app
        .notifier()
        .deliver_due(Utc::now())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(delivered, 1);
    let requests = receiver.wait_for(1, std::time::Duration::from_secs(5));
    let request = &requests[0];
    let header = |name: &str| request.headers.get(name).cloned().unwrap_or_default();
    assert!(notify::signature::verify(
        &secret,
        &header("webhook-id"),
        header("webhook-timestamp").parse().unwrap_or_default(),
        &request.body,
        &header("webhook-signature"),
    ));
    let page = admin.page(SYNC).await;
    assert!(page.contains("Delivered"), "{page}");

    let endpoint = page
        .split("/notifications/endpoints/")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default()
        .to_owned();
    // Another tenant's admin cannot change it.
    let other = app.login_admin_of(TenantFixture::new("Globex")).await;
    let foreign = other
        .submit(SYNC, &format!("{ENDPOINTS}/{endpoint}/disable"), &[])
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);

    let disabled = admin
        .submit(SYNC, &format!("{ENDPOINTS}/{endpoint}/disable"), &[])
        .await;
    let page = admin.page(&location(&disabled)).await;
    assert!(page.contains("is disabled"), "{page}");
    assert!(page.contains("/enable"));
    let removed = admin
        .submit(SYNC, &format!("{ENDPOINTS}/{endpoint}/remove"), &[])
        .await;
    let page = admin.page(&location(&removed)).await;
    assert!(page.contains("The endpoint was removed"), "{page}");
    assert!(!page.contains(&receiver.url()));
}

#[tokio::test]
async fn the_deprovisioning_alert_threshold_is_the_tenants_own_within_its_range() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let spike = "/console/secure/advanced/user-group-sync/notifications/spike";
    for (input, expected) in [
        ("0", "from 1 to 1000000"),
        ("-5", "from 1 to 1000000"),
        ("lots", "from 1 to 1000000"),
        ("99999999999", "from 1 to 1000000"),
        ("1,200", "more than 1200 users"),
        ("", "default threshold again"),
        ("25", "more than 25 users"),
    ] {
        let saved = admin.submit(SYNC, spike, &[("users", input)]).await;
        assert_eq!(saved.status(), StatusCode::SEE_OTHER, "{input}");
        let page = admin.page(&location(&saved)).await;
        assert!(page.contains(expected), "{input}: {page}");
    }
    let page = admin.page(SYNC).await;
    assert!(page.contains("25 users (your setting)"), "{page}");
    assert!(page.contains(r#"value="25""#));
}
