//! Users (search, filters, pages, detail), cards (add, remove, refusals), groups (counts,
//! members), and every id of another tenant answering 404.

use chrono::Utc;
use reqwest::StatusCode;
use serde_json::json;
use tenancy::directory::cards;
use tenancy::{TenantId, UserId};
use uuid::Uuid;

use crate::helpers::{TenantFixture, TestApp, ids_after, location, spawn_app, text};

async fn cards_of(app: &TestApp, tenant: TenantId, user: UserId) -> Vec<String> {
    app.db()
        .run(tenant, move |conn| cards::for_user(conn, tenant, user))
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|c| c.card_number)
        .collect()
}

/// How many user rows a users page lists.
fn rows(html: &str) -> usize {
    html.matches("<a href=\"/console/users/").count()
}

#[tokio::test]
async fn users_can_be_searched_filtered_and_paged() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    for i in 0..55 {
        app.insert_user(
            tenant,
            json!({ "userName": format!("user{i:02}@acme.example") }),
            "import",
        )
        .await;
    }
    app.insert_user(
        tenant,
        json!({
            "userName": "ann.lee@acme.example",
            "name": { "givenName": "Ann", "familyName": "Lee" },
            "emails": [{ "value": "ann@mail.example", "primary": true }],
        }),
        "scim",
    )
    .await;
    app.insert_user(
        tenant,
        json!({ "userName": "gone@acme.example", "displayName": "Gone Away", "active": false }),
        "console",
    )
    .await;

    let first = admin.page("/console/users").await;
    let second = admin.page("/console/users?page=2").await;
    let by_name = admin.page("/console/users?q=lee").await;
    let by_given_and_family = admin.page("/console/users?q=ann+lee").await;
    let by_email = admin.page("/console/users?q=MAIL.example").await;
    let inactive = admin.page("/console/users?active=inactive").await;
    let scim = admin.page("/console/users?source=scim").await;
    let imported_active = admin
        .page("/console/users?active=active&source=import&q=user0")
        .await;
    let none = admin.page("/console/users?q=nobody-at-all").await;
    let beyond = admin.get("/console/users?page=99&q=user").await;
    let junk = admin.get("/console/users?page=abc").await;

    assert!(first.contains("<span class=\"count\">57</span>"));
    assert_eq!(rows(&first), 50);
    assert!(first.contains("1–50 of 57"), "{first}");
    assert!(first.contains("page=2\" rel=\"next\""), "{first}");
    assert_eq!(rows(&second), 7);
    assert!(second.contains("51–57 of 57"));
    assert_eq!(rows(&by_name), 1);
    assert!(by_name.contains("ann.lee@acme.example"));
    assert!(by_name.contains("Ann Lee"));
    assert_eq!(rows(&by_given_and_family), 1);
    assert_eq!(rows(&by_email), 1);
    assert!(by_email.contains("ann@mail.example"));
    assert_eq!(rows(&inactive), 1);
    assert!(inactive.contains("gone@acme.example"));
    assert!(inactive.contains("Deactivated"));
    assert_eq!(rows(&scim), 1);
    assert!(scim.contains("title=\"Managed by your identity provider\""));
    assert_eq!(rows(&imported_active), 10);
    assert!(
        imported_active.contains("<option value=\"import\" selected>"),
        "the filters keep their values"
    );
    assert!(none.contains("No users match “nobody-at-all”."));
    // A page past the end leads to the last page, with the same search.
    assert_eq!(beyond.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&beyond), "/console/users?q=user&page=2");
    assert_eq!(junk.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_users_page_shows_attributes_groups_and_cards_and_marks_scim_users() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let ann = app
        .insert_user(
            tenant,
            json!({
                "userName": "ann@acme.example",
                "externalId": "00u1",
                "displayName": "Ann <Lee>",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "R&D" },
            }),
            "scim",
        )
        .await;
    app.insert_group(tenant, "Engineering", &[ann]).await;
    app.db()
        .run(tenant, move |conn| {
            cards::add(
                conn,
                tenant,
                ann,
                "C-100",
                tenancy::stored::CardSource::Import,
                Utc::now(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"));

    let page = admin.page(&format!("/console/users/{ann}")).await;

    assert!(page.contains("Managed by your identity provider over SCIM"));
    assert!(page.contains("Ann &#60;Lee&#62;") || page.contains("Ann &lt;Lee&gt;"));
    assert!(!page.contains("Ann <Lee>"), "user text is escaped");
    assert!(page.contains("00u1"));
    assert!(page.contains("department"));
    assert!(page.contains("Engineering"));
    assert!(page.contains("C-100"));
}

#[tokio::test]
async fn cards_are_added_and_removed_and_bad_cards_are_refused() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let ann = app
        .insert_user(tenant, json!({ "userName": "ann@acme.example" }), "scim")
        .await;
    let bob = app
        .insert_user(tenant, json!({ "userName": "bob@acme.example" }), "console")
        .await;
    let ann_page = format!("/console/users/{ann}");
    let bob_page = format!("/console/users/{bob}");

    let added = admin
        .submit(
            &ann_page,
            &format!("{ann_page}/cards"),
            &[("card_number", " 0042; 50% ")],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&added), format!("{ann_page}#cards"));
    let page = admin.page(&ann_page).await;
    assert!(page.contains("Card 0042; 50% added."), "{page}");
    assert_eq!(cards_of(&app, tenant, ann).await, vec!["0042; 50%"]);

    let duplicate = admin
        .submit(
            &bob_page,
            &format!("{bob_page}/cards"),
            &[("card_number", "0042; 50%")],
        )
        .await;
    let duplicate_status = duplicate.status();
    let duplicate_html = text(duplicate).await;
    let empty = admin
        .submit(
            &bob_page,
            &format!("{bob_page}/cards"),
            &[("card_number", "   ")],
        )
        .await;
    let empty_status = empty.status();
    let empty_html = text(empty).await;
    let too_long = admin
        .submit(
            &bob_page,
            &format!("{bob_page}/cards"),
            &[("card_number", &"9".repeat(65))],
        )
        .await;
    assert_eq!(duplicate_status, StatusCode::BAD_REQUEST);
    // The message says who holds the card, links to them, and sits at the top of the page.
    assert!(
        duplicate_html.contains("Card 0042; 50% already belongs to ann@acme.example."),
        "{duplicate_html}"
    );
    assert!(duplicate_html.contains(&format!(
        "<a href=\"/console/users/{ann}\">Open ann@acme.example</a>"
    )));
    let alert_at = duplicate_html.find("role=\"alert\"").unwrap_or(usize::MAX);
    assert!(alert_at < duplicate_html.find("<h1").unwrap_or(0));
    assert!(
        duplicate_html.contains("value=\"0042; 50%\""),
        "the typed number is kept"
    );
    assert!(duplicate_html.contains("aria-invalid=\"true\""));
    assert_eq!(empty_status, StatusCode::BAD_REQUEST);
    assert!(empty_html.contains("1 to 64 visible characters"));
    assert_eq!(too_long.status(), StatusCode::BAD_REQUEST);
    assert!(cards_of(&app, tenant, bob).await.is_empty());

    let page = admin.page(&ann_page).await;
    let card_ids = ids_after(&page, &format!("{ann_page}/cards/"));
    assert_eq!(card_ids.len(), 1);
    let wrong_user = admin
        .submit(
            &bob_page,
            &format!("{bob_page}/cards/{}/remove", card_ids[0]),
            &[],
        )
        .await;
    assert_eq!(wrong_user.status(), StatusCode::NOT_FOUND);
    assert_eq!(cards_of(&app, tenant, ann).await.len(), 1);
    let removed = admin
        .submit(
            &ann_page,
            &format!("{ann_page}/cards/{}/remove", card_ids[0]),
            &[],
        )
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    let page = admin.page(&ann_page).await;
    assert!(page.contains("Card removed."));
    assert!(page.contains("No cards."));
    assert!(cards_of(&app, tenant, ann).await.is_empty());
}

#[tokio::test]
async fn groups_are_listed_with_member_counts_and_show_their_members() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let tenant = admin.tenant.id;
    let ann = app
        .insert_user(
            tenant,
            json!({ "userName": "ann@acme.example", "displayName": "Ann Lee" }),
            "scim",
        )
        .await;
    let bob = app
        .insert_user(tenant, json!({ "userName": "bob@acme.example" }), "scim")
        .await;
    let staff = app.insert_group(tenant, "Staff", &[ann, bob]).await;
    app.insert_group(tenant, "Admins", &[ann]).await;
    app.insert_group(tenant, "Empty", &[]).await;

    let list = admin.page("/console/groups").await;
    let search = admin.page("/console/groups?q=adm").await;
    let detail = admin.page(&format!("/console/groups/{staff}")).await;

    assert!(list.contains("<span class=\"count\">3</span>"));
    assert!(list.contains(&format!(
        "<a href=\"/console/groups/{staff}\">Staff</a></td><td class=\"num\">2</td>"
    )));
    assert!(list.contains(">Admins</a></td><td class=\"num\">1</td>"));
    assert!(list.contains(">Empty</a></td><td class=\"num\">0</td>"));
    let order: Vec<usize> = ["Admins", "Empty", "Staff"]
        .iter()
        .map(|name| list.find(&format!(">{name}</a>")).unwrap_or(usize::MAX))
        .collect();
    assert!(order.windows(2).all(|w| w[0] < w[1]), "sorted by name");
    assert!(search.contains("Admins") && !search.contains(">Staff<"));
    assert!(detail.contains("Members <span class=\"count\">2</span>"));
    assert!(detail.contains(&format!("href=\"/console/users/{ann}\"")));
    assert!(detail.contains(&format!("href=\"/console/users/{bob}\"")));
    assert!(detail.contains("Ann Lee"));
}

#[tokio::test]
async fn another_tenants_users_groups_cards_jobs_and_events_answer_404() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    let other = app.login_admin_of(TenantFixture::new("Globex")).await;
    let theirs = other.tenant.id;
    let user = app
        .insert_user(theirs, json!({ "userName": "eve@globex.example" }), "scim")
        .await;
    let group = app.insert_group(theirs, "Globex staff", &[user]).await;
    let card = app
        .db()
        .run(theirs, move |conn| {
            cards::add(
                conn,
                theirs,
                user,
                "G-1",
                tenancy::stored::CardSource::Console,
                Utc::now(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .id;
    let job = location(
        &other
            .upload_csv("users", "g.csv", b"userName\nzed@globex.example\n")
            .await,
    );
    let token = app.issue_token(theirs, Utc::now()).await;
    app.scim(reqwest::Method::GET, theirs, "/Users", &token.token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let event = super::activity::wait_for_event_id(&other, "List users").await;
    // Their own admin sees all of it.
    for path in [
        format!("/console/users/{user}"),
        format!("/console/groups/{group}"),
        job.clone(),
        format!("/console/activity/{event}"),
    ] {
        assert_eq!(other.get(&path).await.status(), StatusCode::OK, "{path}");
    }

    for path in [
        format!("/console/users/{user}"),
        format!("/console/groups/{group}"),
        job.clone(),
        format!("/console/activity/{event}"),
        format!("/console/users/{}", Uuid::new_v4()),
        "/console/users/not-a-uuid".to_owned(),
        "/console/groups/not-a-uuid".to_owned(),
        "/console/import/not-a-uuid".to_owned(),
        "/console/activity/not-a-number".to_owned(),
        "/console/no-such-page".to_owned(),
    ] {
        let response = admin.get(&path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(text(response).await.contains("Not found"), "{path}");
    }
    let list = admin.page("/console/users").await;
    assert!(!list.contains("eve@globex.example"));
    let add = admin
        .submit(
            "/console/users",
            &format!("/console/users/{user}/cards"),
            &[("card_number", "A-1")],
        )
        .await;
    let remove = admin
        .submit(
            "/console/users",
            &format!("/console/users/{user}/cards/{card}/remove"),
            &[],
        )
        .await;
    assert_eq!(add.status(), StatusCode::NOT_FOUND);
    assert_eq!(remove.status(), StatusCode::NOT_FOUND);
    assert_eq!(cards_of(&app, theirs, user).await, vec!["G-1"]);
}

#[tokio::test]
async fn absurd_page_numbers_answer_an_empty_page_not_an_error() {
    let app = spawn_app().await;
    let admin = app.login_admin().await;
    app.insert_user(
        admin.tenant.id,
        json!({ "userName": "ann@acme.example" }),
        "console",
    )
    .await;
    let job = location(
        &admin
            .upload_csv(
                "cards",
                "c.csv",
                b"userName,cardNumber\nann@acme.example,C-1\n",
            )
            .await,
    );
    let max = i64::MAX;

    // Lists lead to their last page.
    for (path, last) in [
        ("/console/users", "/console/users"),
        ("/console/groups", "/console/groups"),
        ("/console/activity", "/console/activity"),
    ] {
        let response = admin.get(&format!("{path}?page={max}")).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(location(&response), last, "{path}");
        assert_eq!(admin.get(last).await.status(), StatusCode::OK, "{path}");
    }
    for path in [
        format!("{job}?page={max}"),
        format!("{job}?errors=1&page={max}"),
        "/console/users?page=-3".to_owned(),
        "/console/users?page=0".to_owned(),
    ] {
        let response = admin.get(&path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    assert!(
        admin
            .page("/console/users?page=-3")
            .await
            .contains("ann@acme.example")
    );
}
