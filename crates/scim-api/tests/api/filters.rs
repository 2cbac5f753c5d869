//! Lists: every filter operator, `and` / `or` / `not`, parentheses, value paths, attribute
//! names in any case, `caseExact`, invalid filters, sorting and paging edges.

use serde_json::json;

use crate::helpers::{ENTERPRISE, TestApp, USER_SCHEMA, filter_query, spawn_app, values_of};

/// Three users with distinct attributes; returns the app.
async fn directory() -> TestApp {
    let app = spawn_app().await;
    for body in [
        json!({
            "schemas": [USER_SCHEMA, ENTERPRISE],
            "userName": "Alice@Example.com",
            "externalId": "EXT-alice",
            "displayName": "Alice Anders",
            "name": {"givenName": "Alice", "familyName": "Anders"},
            "title": "Engineer",
            "emails": [{"value": "alice@work.example", "type": "work", "primary": true},
                       {"value": "alice@home.example", "type": "home"}],
            "active": true,
            ENTERPRISE: {"employeeNumber": "100", "department": "R&D"}
        }),
        json!({
            "schemas": [USER_SCHEMA],
            "userName": "bob@example.com",
            "externalId": "ext-bob",
            "displayName": "Bob Brown",
            "name": {"givenName": "Bob", "familyName": "Brown"},
            "emails": [{"value": "bob@home.example", "type": "home"}],
            "active": false
        }),
        json!({
            "schemas": [USER_SCHEMA],
            "userName": "carol@other.org",
            "displayName": "Carol Clark",
            "name": {"givenName": "Carol", "familyName": "Clark"},
            "title": "Manager",
            "active": true
        }),
    ] {
        app.post("/Users", &body).await.assert_status(201);
    }
    app
}

/// The sorted userNames a filter selects.
async fn names(app: &TestApp, filter: &str) -> Vec<String> {
    let response = app.get(&format!("/Users?{}", filter_query(filter))).await;
    response.assert_status(200);
    let resources = response.resources();
    assert_eq!(
        response.total(),
        u64::try_from(resources.len()).unwrap_or_default(),
        "{filter}"
    );
    let mut names = values_of(&resources, "userName");
    names.sort_by_key(|n| n.to_lowercase());
    names
}

#[tokio::test]
async fn every_operator() {
    let app = directory().await;
    let alice = "Alice@Example.com";
    let bob = "bob@example.com";
    let carol = "carol@other.org";
    let department = format!(r#"{ENTERPRISE}:department eq "R&D""#);
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (r#"userName eq "alice@example.com""#, vec![alice]),
        (r#"userName ne "alice@example.com""#, vec![bob, carol]),
        (r#"userName co "EXAMPLE""#, vec![alice, bob]),
        (r#"userName sw "CAR""#, vec![carol]),
        (r#"userName ew ".COM""#, vec![alice, bob]),
        (r#"title pr"#, vec![alice, carol]),
        (r#"externalId pr"#, vec![alice, bob]),
        (r#"userName gt "bob@example.com""#, vec![carol]),
        (r#"userName ge "bob@example.com""#, vec![bob, carol]),
        (r#"userName lt "bob@example.com""#, vec![alice]),
        (r#"userName le "bob@example.com""#, vec![alice, bob]),
        (r#"active eq false"#, vec![bob]),
        (r#"active ne false"#, vec![alice, carol]),
        (
            r#"meta.created gt "2000-01-01T00:00:00Z""#,
            vec![alice, bob, carol],
        ),
        (r#"meta.lastModified lt "2000-01-01T00:00:00Z""#, vec![]),
        (r#"name.familyName eq "brown""#, vec![bob]),
        (r#"emails.value ew "@home.example""#, vec![alice, bob]),
        (r#"emails eq "bob@home.example""#, vec![bob]),
        (&department, vec![alice]),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(&app, filter).await, expected, "{filter}");
    }
}

#[tokio::test]
async fn logical_operators_parentheses_and_value_paths() {
    let app = directory().await;
    let alice = "Alice@Example.com";
    let bob = "bob@example.com";
    let carol = "carol@other.org";
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (r#"active eq true and title eq "manager""#, vec![carol]),
        (
            r#"title eq "Engineer" or userName sw "bob""#,
            vec![alice, bob],
        ),
        (r#"not (active eq true)"#, vec![bob]),
        (
            r#"(userName sw "a" or userName sw "b") and not (active eq false)"#,
            vec![alice],
        ),
        (
            r#"userName sw "a" or (userName sw "b" and active eq true)"#,
            vec![alice],
        ),
        (
            r#"emails[type eq "work" and value co "alice"]"#,
            vec![alice],
        ),
        (r#"emails[type eq "home"]"#, vec![alice, bob]),
        (
            r#"emails[type eq "work"] and emails[type eq "home"]"#,
            vec![alice],
        ),
        (r#"not (emails[type eq "work"])"#, vec![bob, carol]),
    ];
    for (filter, expected) in cases {
        assert_eq!(names(&app, filter).await, expected, "{filter}");
    }
}

#[tokio::test]
async fn attribute_names_and_operators_are_case_insensitive() {
    let app = directory().await;
    assert_eq!(
        names(&app, r#"USERNAME EQ "BOB@EXAMPLE.COM""#).await,
        vec!["bob@example.com"]
    );
    assert_eq!(
        names(&app, r#"Name.GivenName Sw "car""#).await,
        vec!["carol@other.org"]
    );
    assert_eq!(
        names(
            &app,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "bob@example.com""#
        )
        .await,
        vec!["bob@example.com"]
    );
}

#[tokio::test]
async fn case_exact_applies_per_attribute() {
    let app = directory().await;
    // externalId is caseExact: only the exact spelling matches.
    assert_eq!(
        names(&app, r#"externalId eq "EXT-alice""#).await,
        vec!["Alice@Example.com"]
    );
    assert!(names(&app, r#"externalId eq "ext-alice""#).await.is_empty());
    assert!(names(&app, r#"externalId sw "EXT-B""#).await.is_empty());
    // userName is not.
    assert_eq!(
        names(&app, r#"userName eq "ALICE@EXAMPLE.COM""#).await,
        vec!["Alice@Example.com"]
    );
}

#[tokio::test]
async fn bad_filters_are_400_invalid_filter() {
    let app = directory().await;
    for filter in [
        r#"userName eq"#,
        r#"userName xx "a""#,
        r#"userName eq "unterminated"#,
        r#"(userName eq "a""#,
        r#"nosuchattribute eq "x""#,
        r#"active eq "yes""#,
        r#"emails[type eq "work""#,
        r#"userName eq "a" and"#,
        r#"meta.created gt "yesterday""#,
    ] {
        let response = app.get(&format!("/Users?{}", filter_query(filter))).await;
        response.assert_scim_error(400, Some("invalidFilter"));
    }
    let deep = format!("{}userName eq \"a\"{}", "(".repeat(500), ")".repeat(500));
    app.get(&format!("/Users?{}", filter_query(&deep)))
        .await
        .assert_scim_error(400, Some("invalidFilter"));
    let long = format!("userName eq \"{}\"", "a".repeat(20_000));
    let response = app.get(&format!("/Users?{}", filter_query(&long))).await;
    assert!(
        response.status == 400 || response.status == 414 || response.status == 431,
        "{}: {}",
        response.status,
        response.text
    );
    app.get(&format!("/Groups?{}", filter_query(r#"userName eq "a""#)))
        .await
        .assert_scim_error(400, Some("invalidFilter"));
}

#[tokio::test]
async fn sort_by_and_sort_order() {
    let app = directory().await;
    let sorted = app.get("/Users?sortBy=userName").await;
    assert_eq!(
        values_of(&sorted.resources(), "userName"),
        vec!["Alice@Example.com", "bob@example.com", "carol@other.org"]
    );
    let sorted = app
        .get("/Users?sortBy=name.familyName&sortOrder=descending")
        .await;
    assert_eq!(
        values_of(&sorted.resources(), "userName"),
        vec!["carol@other.org", "bob@example.com", "Alice@Example.com"]
    );
    let sorted = app.get("/Users?sortBy=title&sortOrder=ascending").await;
    assert!(
        sorted.status == 200 || sorted.status == 400,
        "{}",
        sorted.text
    );
    if sorted.status == 400 {
        assert_eq!(sorted.json["scimType"], "invalidValue");
    }
    app.get("/Users?sortBy=userName&sortOrder=sideways")
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn count_zero_start_index_and_limits() {
    let app = directory().await;
    let only_total = app.get("/Users?count=0").await;
    only_total.assert_status(200);
    assert_eq!(only_total.total(), 3);
    assert_eq!(only_total.json["itemsPerPage"], 0);
    assert!(
        only_total
            .json
            .get("Resources")
            .is_none_or(|r| r == &json!([]))
    );

    let filtered_total = app
        .get(&format!(
            "/Users?count=0&{}",
            filter_query("active eq true")
        ))
        .await;
    assert_eq!(filtered_total.total(), 2);

    let below_one = app.get("/Users?startIndex=0&count=2").await;
    assert_eq!(below_one.json["startIndex"], 1);
    assert_eq!(below_one.resources().len(), 2);
    let negative = app.get("/Users?startIndex=-4&count=-1").await;
    negative.assert_status(200);
    assert_eq!(negative.json["startIndex"], 1);

    let past_the_end = app.get("/Users?startIndex=10&count=5").await;
    past_the_end.assert_status(200);
    assert_eq!(past_the_end.total(), 3);
    assert_eq!(past_the_end.json["itemsPerPage"], 0);

    let last = app.get("/Users?startIndex=3&count=5").await;
    assert_eq!(last.total(), 3);
    assert_eq!(last.resources().len(), 1);

    app.get("/Users?count=many")
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

#[tokio::test]
async fn post_search_queries_like_get() {
    let app = directory().await;
    let search = |body: serde_json::Value| {
        let app = &app;
        async move { app.post("/Users/.search", &body).await }
    };
    let response = search(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "attributes": ["userName", "name.familyName"],
        "filter": "active eq true",
        "sortBy": "userName",
        "sortOrder": "descending",
        "startIndex": 1,
        "count": 10
    }))
    .await;
    response.assert_status(200);
    assert_eq!(response.total(), 2);
    let resources = response.resources();
    assert_eq!(
        values_of(&resources, "userName"),
        vec!["carol@other.org", "Alice@Example.com"]
    );
    assert!(resources.iter().all(|r| r.get("displayName").is_none()));
    assert_eq!(resources[0]["name"], json!({"familyName": "Clark"}));

    search(json!({"filter": "userName zz \"a\""}))
        .await
        .assert_scim_error(400, Some("invalidFilter"));
    search(json!({"count": "ten"}))
        .await
        .assert_scim_error(400, Some("invalidValue"));

    let groups = app
        .post(
            "/Groups/.search",
            &json!({"excludedAttributes": ["members"]}),
        )
        .await;
    groups.assert_status(200);
    assert_eq!(groups.total(), 0);

    // Searching every resource type at once is not offered (RFC 7644 §3.12: 501).
    app.post("/.search", &json!({"filter": "userName pr"}))
        .await
        .assert_scim_error(501, None);
    // GET on a search endpoint is not a search.
    let response = app.get("/Users/.search").await;
    response.assert_scim_error(405, None);
}
