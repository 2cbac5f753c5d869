//! The storage behind the console's pages: accent- and case-insensitive user search with
//! status counts, a group's members a page at a time, who holds a card, how a user was
//! deactivated, and the activity chart's hourly roll-up.

use chrono::{DateTime, Duration, DurationRound as _, TimeZone as _, Utc};
use diesel::prelude::*;
use serde_json::json;
use tenancy::directory::cards::{self, Claimed};
use tenancy::directory::groups::{self, GroupFields};
use tenancy::directory::member_page;
use tenancy::directory::query::{Condition, Page};
use tenancy::directory::user_search;
use tenancy::directory::users::{self, UserFields, UserRow};
use tenancy::events::{self, NewEvent};
use tenancy::maintenance;
use tenancy::stored::{CardSource, EventOperation, UserSource};
use tenancy::{Error, TenantId, UserId};
use testkit::TestDb;

fn tenant(conn: &mut PgConnection) -> Result<TenantId, Error> {
    crate::support::tenant(conn, "Search")
}

fn user(
    conn: &mut PgConnection,
    tenant: TenantId,
    doc: serde_json::Value,
) -> Result<UserRow, Error> {
    let fields = UserFields::from_document(doc)?;
    users::insert(conn, tenant, &fields, UserSource::Scim, Utc::now())
}

fn names(conn: &mut PgConnection, tenant: TenantId, text: &str) -> Result<Vec<String>, Error> {
    let page = Page {
        offset: 0,
        limit: 50,
        order_by: Some("u.user_name_key"),
        descending: false,
    };
    let found = users::list(conn, tenant, &user_search::matching(text), &page)?;
    Ok(found.into_iter().map(|u| u.user_name).collect())
}

#[test]
fn user_search_ignores_case_and_accents_and_reaches_title_and_department() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = tenant(&mut conn)?;
    user(
        &mut conn,
        tenant,
        json!({
            "userName": "cagla.yilmaz@example.com",
            "name": {"givenName": "Çağla", "familyName": "Yılmaz"},
            "title": "Staff Engineer",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Forschung & Entwicklung"}
        }),
    )?;
    user(
        &mut conn,
        tenant,
        json!({"userName": "strasse@example.com", "displayName": "Jürgen Straße", "active": false}),
    )?;
    user(&mut conn, tenant, json!({"userName": "bob@example.com"}))?;
    // A display name far past any index entry's size is kept whole and found by its start.
    let huge = format!("Huge {}", "😀".repeat(150_000));
    let stored = user(
        &mut conn,
        tenant,
        json!({"userName": "huge@example.com", "displayName": huge}),
    )?;
    assert_eq!(stored.display_name.as_deref(), Some(huge.as_str()));

    assert_eq!(
        names(&mut conn, tenant, "cagla")?,
        ["cagla.yilmaz@example.com"]
    );
    assert_eq!(
        names(&mut conn, tenant, "ÇAĞLA YIL")?,
        ["cagla.yilmaz@example.com"]
    );
    assert_eq!(
        names(&mut conn, tenant, "yilmaz")?,
        ["cagla.yilmaz@example.com"]
    );
    assert_eq!(
        names(&mut conn, tenant, "staff eng")?,
        ["cagla.yilmaz@example.com"]
    );
    assert_eq!(
        names(&mut conn, tenant, "ENTWICK")?,
        ["cagla.yilmaz@example.com"]
    );
    assert_eq!(
        names(&mut conn, tenant, "jurgen strasse")?,
        ["strasse@example.com"]
    );
    assert_eq!(names(&mut conn, tenant, "example.com")?.len(), 4);
    assert_eq!(names(&mut conn, tenant, "huge 😀😀")?, ["huge@example.com"]);
    assert_eq!(names(&mut conn, tenant, "nobody")?, Vec::<String>::new());

    let all = user_search::status_counts(&mut conn, tenant, &Condition::always())?;
    assert_eq!((all.active, all.deactivated, all.all()), (3, 1, 4));
    let strasse = user_search::status_counts(&mut conn, tenant, &user_search::matching("STRASSE"))?;
    assert_eq!((strasse.active, strasse.deactivated), (0, 1));
    Ok(())
}

#[test]
fn a_groups_members_come_a_page_at_a_time_in_user_name_order() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = tenant(&mut conn)?;
    let mut members: Vec<UserId> = Vec::new();
    // Two people with the same name, told apart by userName and email.
    for (user_name, given) in [
        ("zoe@example.com", "Zoé"),
        ("anna.1@example.com", "Anna"),
        ("anna.2@example.com", "Anna"),
        ("mike@example.com", "Mike"),
    ] {
        let row = user(
            &mut conn,
            tenant,
            json!({"userName": user_name, "name": {"givenName": given, "familyName": "Smith"},
                   "emails": [{"value": format!("mail-{user_name}"), "primary": true}]}),
        )?;
        members.push(row.id);
    }
    let outsider = user(&mut conn, tenant, json!({"userName": "aaron@example.com"}))?;
    let group = groups::insert(
        &mut conn,
        tenant,
        &GroupFields::from_document(json!({"displayName": "Everyone"}))?,
        Utc::now(),
    )?;
    groups::add_members(&mut conn, tenant, group.id, &members)?;

    let (first, total) = member_page::members_page(&mut conn, tenant, group.id, None, 0, 3)?;
    let first: Vec<&str> = first.iter().map(|m| m.user_name.as_str()).collect();
    assert_eq!(
        first,
        [
            "anna.1@example.com",
            "anna.2@example.com",
            "mike@example.com"
        ]
    );
    assert_eq!(total, 4);
    let (second, _) = member_page::members_page(&mut conn, tenant, group.id, None, 3, 3)?;
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].user_name, "zoe@example.com");
    assert_eq!(second[0].email.as_deref(), Some("mail-zoe@example.com"));
    assert_eq!(second[0].given_name.as_deref(), Some("Zoé"));
    assert!(
        !first.contains(&outsider.user_name.as_str()),
        "a non-member is not listed"
    );

    let (zoe, matching) =
        member_page::members_page(&mut conn, tenant, group.id, Some("ZOE"), 0, 50)?;
    assert_eq!((zoe.len(), matching), (1, 1));
    let (annas, matching) =
        member_page::members_page(&mut conn, tenant, group.id, Some("anna"), 0, 1)?;
    assert_eq!(
        (annas.len(), matching),
        (1, 2),
        "the count covers every page"
    );
    assert_eq!(member_page::member_count(&mut conn, tenant, group.id)?, 4);
    Ok(())
}

#[test]
fn a_taken_card_number_names_its_holder_without_failing_the_transaction() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = tenant(&mut conn)?;
    let holder = user(
        &mut conn,
        tenant,
        json!({"userName": "holder@example.com", "displayName": "Hol Der"}),
    )?;
    let other = user(&mut conn, tenant, json!({"userName": "other@example.com"}))?;
    let now = Utc::now();

    let outcome = conn.transaction::<_, Error, _>(|conn| {
        let first = cards::claim(conn, tenant, holder.id, " 0042 ", CardSource::Console, now)?;
        let second = cards::claim(conn, tenant, other.id, "0042", CardSource::Console, now)?;
        // The transaction is still usable after the refusal.
        let other_cards = cards::for_user(conn, tenant, other.id)?;
        Ok((first, second, other_cards))
    })?;
    match outcome {
        (Claimed::Added(card), Claimed::HeldBy(by), other_cards) => {
            assert_eq!(card.user_id, holder.id);
            assert_eq!(by.user_id, holder.id);
            assert_eq!(by.user_name, "holder@example.com");
            assert_eq!(by.display_name.as_deref(), Some("Hol Der"));
            assert!(other_cards.is_empty());
        }
        (first, second, _) => panic!("unexpected claims: {first:?}, {second:?}"),
    }
    Ok(())
}

fn event(
    tenant: TenantId,
    at: DateTime<Utc>,
    method: &str,
    status: i16,
    resource: Option<&str>,
) -> NewEvent {
    NewEvent {
        tenant_id: tenant,
        occurred_at: at,
        method: method.into(),
        path: "/Users".into(),
        status,
        resource_type: Some("User".into()),
        resource_id: resource.map(str::to_owned),
        token_id: None,
        duration_us: 100,
        error: None,
        payload: None,
        operation: match method {
            "GET" => EventOperation::Lookup,
            "POST" => EventOperation::Create,
            "DELETE" => EventOperation::Delete,
            _ => EventOperation::Update,
        },
        subject: None,
        response: None,
    }
}

#[test]
fn the_last_write_to_a_resource_explains_its_state() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = tenant(&mut conn)?;
    let id = "7d3b7e0e-0000-4000-8000-000000000001";
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 30, 9, 0, 0)
        .single()
        .ok_or(Error::Internal("time".into()))?;
    events::insert_many(
        &mut conn,
        &[
            event(tenant, t0, "POST", 201, Some(id)),
            event(tenant, t0 + Duration::minutes(5), "PATCH", 200, Some(id)),
            event(tenant, t0 + Duration::minutes(6), "GET", 200, Some(id)),
            event(tenant, t0 + Duration::minutes(7), "PATCH", 400, Some(id)),
            event(tenant, t0 + Duration::minutes(9), "PUT", 200, Some(id)),
        ],
    )?;

    let at_deactivation = events::last_write_to(&mut conn, tenant, id, t0 + Duration::minutes(8))?;
    let found = at_deactivation.ok_or(Error::Internal("no write found".into()))?;
    assert_eq!(found.method, "PATCH");
    assert_eq!(found.occurred_at, t0 + Duration::minutes(5));
    assert!(events::last_write_to(&mut conn, tenant, "other", Utc::now())?.is_none());
    Ok(())
}

#[tokio::test]
async fn the_chart_counts_the_same_before_and_after_the_roll_up() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = tenant(&mut conn)?;
    let now = Utc::now();
    let hour = |h: i64| {
        (now - Duration::hours(h))
            .duration_trunc(Duration::hours(1))
            .unwrap_or(now)
    };
    let mut batch = Vec::new();
    for h in [50, 30, 30, 2, 2, 2] {
        batch.push(event(
            tenant,
            hour(h) + Duration::minutes(10),
            "GET",
            200,
            None,
        ));
    }
    batch.push(event(
        tenant,
        hour(30) + Duration::minutes(20),
        "POST",
        409,
        None,
    ));
    batch.push(event(tenant, now, "GET", 500, None));
    events::insert_many(&mut conn, &batch)?;

    let since = now - Duration::days(7);
    let live = events::buckets(&mut conn, tenant, events::Bucketing::Hour, since)?;
    assert_eq!(live.iter().map(|h| h.1).sum::<i64>(), 8);

    maintenance::catch_up(test_db.db()).await?;
    let rolled = events::buckets(&mut conn, tenant, events::Bucketing::Hour, since)?;
    assert_eq!(rolled, live, "the roll-up changes no figure");
    let thirty = rolled.iter().find(|h| h.0 == hour(30));
    assert_eq!(thirty.map(|h| (h.1, h.2)), Some((3, 1)));

    // Events of an hour already rolled up can no longer arrive; a later event still counts.
    events::insert_many(&mut conn, &[event(tenant, now, "GET", 200, None)])?;
    let later = events::buckets(&mut conn, tenant, events::Bucketing::Hour, since)?;
    assert_eq!(later.iter().map(|h| h.1).sum::<i64>(), 9);

    // While one server holds the roll-up's lock, another skips its pass.
    let mut other = test_db.connect();
    conn.transaction::<_, Error, _>(|conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(5660504065)").execute(conn)?;
        assert_eq!(maintenance::roll_up_events(&mut other, now)?, None);
        Ok(())
    })?;
    assert!(maintenance::roll_up_events(&mut other, now)?.is_some());
    Ok(())
}
