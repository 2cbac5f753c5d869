//! CSV import: users (create or update), cards only, files refused as a whole, and a 100,000-row
//! upload that becomes a background job.

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;
use tenancy::directory::{Condition, cards, users};
use tenancy::{TenantId, imports};

use crate::helpers::{TenantFixture, TestApp, location, spawn_app, text};

async fn user_count(app: &TestApp, tenant: TenantId) -> i64 {
    app.db()
        .run(tenant, move |conn| {
            users::count(conn, tenant, &Condition::always())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn card_count(app: &TestApp, tenant: TenantId) -> i64 {
    app.db()
        .run(tenant, move |conn| cards::count(conn, tenant))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn job_count(app: &TestApp, tenant: TenantId) -> usize {
    app.db()
        .run(tenant, move |conn| imports::recent_jobs(conn, tenant, 100))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .len()
}

#[tokio::test]
async fn the_import_page_suggests_cards_only_when_scim_manages_users() {
    let app = spawn_app().await;
    let scim = app.login_admin().await;
    let plain = app
        .login_admin_of(TenantFixture::new("Globex").without_scim())
        .await;

    let managed = scim.page("/console/import").await;
    let unmanaged = plain.page("/console/import").await;

    assert!(managed.contains("Importing users is not recommended"));
    assert!(managed.contains("value=\"cards\" checked"));
    assert!(!managed.contains("value=\"users\" checked"));
    assert!(!unmanaged.contains("Importing users is not recommended"));
    assert!(unmanaged.contains("value=\"users\" checked"));
    assert!(
        managed.contains("<label for=\"file\">"),
        "the file input has a label"
    );
}

#[tokio::test]
async fn a_users_import_creates_updates_and_reports_each_row() {
    let app = spawn_app().await;
    let admin = app
        .login_admin_of(TenantFixture::new("Acme").without_scim())
        .await;
    let tenant = admin.tenant.id;
    app.insert_user(
        tenant,
        json!({ "userName": "bob@acme.example", "name": { "givenName": "Bob" } }),
        "console",
    )
    .await;
    let csv = "\u{feff}User Name,Given Name,family_name,Email,active\n\
        new1@acme.example,New,One,new1@mail.example,true\n\
        BOB@acme.example,,Builder,,no\n\
        bad@acme.example,,,not-an-email,\n\
        maybe@acme.example,,,,perhaps\n\
        \"new2@acme.example\",\"Two, Jr.\",,,\n";

    let uploaded = admin
        .upload_csv("users", "people.csv", csv.as_bytes())
        .await;

    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    let job = location(&uploaded);
    assert!(job.starts_with("/console/import/"), "{job}");
    let report = admin.wait_for_import(&job, Duration::from_secs(30)).await;
    assert!(report.contains("Finished"), "{report}");
    assert!(
        report.contains("2 created, 1 updated, 2 errors"),
        "{report}"
    );
    assert!(report.contains("5 of 5 rows applied"));
    assert!(report.contains("is not an email address"));
    assert!(report.contains("must be true or false"));
    let errors = admin.page(&format!("{job}?errors=1")).await;
    assert_eq!(errors.matches("pill red").count(), 2);
    assert!(!errors.contains("new1@acme.example"));
    assert_eq!(user_count(&app, tenant).await, 3);
    let bob = admin.page("/console/users?q=bob").await;
    assert!(bob.contains("Bob Builder"), "{bob}");
    assert!(bob.contains("Deactivated"));
    let new2 = admin.page("/console/users?q=new2").await;
    assert!(new2.contains("Two, Jr."));
    let imported = admin.page("/console/users?source=import").await;
    assert!(imported.contains("<span class=\"count\">2</span>"));
    let listed = admin.page("/console/import").await;
    assert!(listed.contains("people.csv"));
    assert!(listed.contains("2 created, 1 updated, 2 errors"));
}

#[tokio::test]
async fn a_cards_import_adds_cards_and_reports_unknown_users_and_duplicates() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let ann = app
        .insert_user(tenant, json!({ "userName": "ann@acme.example" }), "scim")
        .await;
    let bob = app
        .insert_user(
            tenant,
            json!({ "userName": "00u2bob", "emails": [{ "value": "Bob@Mail.example" }] }),
            "scim",
        )
        .await;
    let taken = app
        .insert_user(tenant, json!({ "userName": "carl@acme.example" }), "scim")
        .await;
    app.db()
        .run(tenant, move |conn| {
            cards::add(
                conn,
                tenant,
                taken,
                "C-9",
                tenancy::stored::CardSource::Console,
                Utc::now(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let csv = "userName,email,cardNumber\n\
        ann@acme.example,,C-1\n\
        ,bob@mail.example,C-2\n\
        ghost@acme.example,,C-3\n\
        ann@acme.example,,C-2\n\
        ann@acme.example,,C-9\n\
        ann@acme.example,,\n";

    let uploaded = admin.upload_csv("cards", "cards.csv", csv.as_bytes()).await;

    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    let report = admin
        .wait_for_import(&location(&uploaded), Duration::from_secs(30))
        .await;
    assert!(
        report.contains("2 created, 0 updated, 4 errors"),
        "{report}"
    );
    assert!(report.contains("No user with userName or email"));
    assert_eq!(
        report
            .matches("already in use in this organisation")
            .count(),
        2
    );
    assert!(report.contains("The card number is empty."));
    let ann_page = admin.page(&format!("/console/users/{ann}")).await;
    let bob_page = admin.page(&format!("/console/users/{bob}")).await;
    assert!(ann_page.contains("<code>C-1</code>"));
    assert!(!ann_page.contains("<code>C-2</code>"));
    assert!(bob_page.contains("<code>C-2</code>"));
    assert_eq!(card_count(&app, tenant).await, 3);
}

#[tokio::test]
async fn a_malformed_or_empty_file_is_refused_and_nothing_is_imported() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    app.insert_user(tenant, json!({ "userName": "ann@acme.example" }), "scim")
        .await;
    let cases: [(&str, &str, &[u8], &str); 8] = [
        (
            "missing column",
            "cards",
            b"userName,card\nann@acme.example,C-1\n",
            "has no cardNumber column",
        ),
        (
            "no user column",
            "cards",
            b"cardNumber\nC-1\n",
            "needs a userName or an email column",
        ),
        (
            "unterminated quote",
            "cards",
            b"userName,cardNumber\nann@acme.example,\"C-1\nann@acme.example,C-2\n",
            "Line 2 is malformed",
        ),
        (
            "text after a closing quote",
            "users",
            b"userName,givenName\n\"ann@acme.example\"x,Ann\n",
            "Line 2 is malformed",
        ),
        (
            "ragged row",
            "users",
            b"userName,givenName\nann@acme.example,Ann,extra\n",
            "Line 2 is malformed",
        ),
        ("empty file", "users", b"", "the file was empty"),
        ("header only", "users", b"userName\n", "no data rows"),
        (
            "no kind",
            "",
            b"userName\nzed@acme.example\n",
            "Choose what to import",
        ),
    ];

    for (case, kind, csv, message) in cases {
        let response = admin.upload_csv(kind, "bad.csv", csv).await;
        let status = response.status();
        let html = text(response).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{case}");
        assert!(html.contains(message), "{case}: {html}");
        assert!(html.contains("Nothing was imported."), "{case}");
    }

    assert_eq!(job_count(&app, tenant).await, 0);
    assert_eq!(user_count(&app, tenant).await, 1);
    assert_eq!(card_count(&app, tenant).await, 0);
    assert!(
        admin
            .page("/console/import")
            .await
            .contains("No imports yet.")
    );
}

#[tokio::test]
async fn a_100_000_row_cards_file_is_accepted_quickly_and_finishes_as_a_job() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let mut names = Vec::new();
    for i in 0..10 {
        let name = format!("badge{i}@acme.example");
        app.insert_user(tenant, json!({ "userName": name }), "scim")
            .await;
        names.push(name);
    }
    let mut csv = String::from("userName,cardNumber\n");
    for row in 0..100_000 {
        csv.push_str(&format!("{},CARD-{row:06}\n", names[row % names.len()]));
    }
    let started = Instant::now();

    let uploaded = admin
        .upload_csv("cards", "badges.csv", csv.as_bytes())
        .await;

    let accepted_in = started.elapsed();
    assert_eq!(uploaded.status(), StatusCode::SEE_OTHER);
    assert!(
        accepted_in < Duration::from_secs(30),
        "the upload took {accepted_in:?}"
    );
    let job = location(&uploaded);
    let first = admin.page(&job).await;
    assert!(first.contains("<progress"), "the job page shows progress");
    assert!(first.contains("of 100000 rows applied"), "{first}");
    let report = admin.wait_for_import(&job, Duration::from_secs(600)).await;
    eprintln!(
        "TIMING accepted in {accepted_in:?}, finished after {:?}",
        started.elapsed()
    );
    assert!(report.contains("100000 of 100000 rows applied"), "{report}");
    assert!(report.contains("100000 created, 0 updated, 0 errors"));
    assert!(report.contains("Page 1 of 1000"));
    assert_eq!(card_count(&app, tenant).await, 100_000);
}
