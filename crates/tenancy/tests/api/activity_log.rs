//! The activity log as the console reads it: the Operation filter, the search (by the names
//! resources have now and the names requests carried), names for a page, a resource's history,
//! the export's keyset chunks, the chart's buckets, and the connection health computed from all
//! of it at any moment of the clock.

use chrono::{DateTime, Duration, DurationRound as _, Utc};
use serde_json::json;
use tenancy::directory::groups::{self, GroupFields};
use tenancy::directory::users::{self, UserFields};
use tenancy::events::{self, Bucketing, EventFilter, EventSearch, NewEvent, ResourceName};
use tenancy::health::{self, Level, State};
use tenancy::rejections::{self, Rejected};
use tenancy::stored::{EventOperation, RejectionReason, UserSource};
use tenancy::tenants::{self, NewTenant, OpenIdSettings};
use tenancy::{Error, TenantId, scim_tokens};
use testkit::TestDb;

fn openid_tenant(conn: &mut diesel::PgConnection, name: &str) -> Result<TenantId, Error> {
    Ok(tenants::create(
        conn,
        &NewTenant {
            name: name.into(),
            scim_enabled: true,
            openid: Some(OpenIdSettings {
                issuer: "https://idp.example/".into(),
                client_id: "client".into(),
                client_secret: "secret".into(),
            }),
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    )?
    .id)
}

#[expect(
    clippy::too_many_arguments,
    reason = "a test event states every column"
)]
fn event(
    tenant: TenantId,
    at: DateTime<Utc>,
    method: &str,
    path: &str,
    status: i16,
    resource: Option<String>,
    operation: EventOperation,
    subject: Option<&str>,
) -> NewEvent {
    NewEvent {
        tenant_id: tenant,
        occurred_at: at,
        method: method.into(),
        path: path.into(),
        status,
        resource_type: Some(
            if path.starts_with("/Groups") {
                "Group"
            } else {
                "User"
            }
            .into(),
        ),
        resource_id: resource,
        token_id: None,
        duration_us: 100,
        error: (status >= 400).then(|| "refused".to_owned()),
        payload: None,
        operation,
        subject: subject.map(str::to_owned),
        response: (status >= 400)
            .then(|| json!({"status": status.to_string(), "scimType": "uniqueness"})),
    }
}

#[test]
fn the_log_is_filtered_by_operation_searched_by_name_and_read_in_chunks() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = openid_tenant(&mut conn, "Acme")?;
    let other = openid_tenant(&mut conn, "Other")?;
    let now = Utc::now();
    let ann = users::insert(
        &mut conn,
        tenant,
        &UserFields::from_document(
            json!({"userName": "ann.lee@acme.example", "displayName": "Ann Lee"}),
        )?,
        UserSource::Scim,
        now,
    )?;
    let sales = groups::insert(
        &mut conn,
        tenant,
        &GroupFields::from_document(json!({"displayName": "Sales EMEA"}))?,
        now,
    )?;
    let ann_id = ann.id.to_string();
    let t = |minutes: i64| now - Duration::minutes(minutes);
    events::insert_many(
        &mut conn,
        &[
            event(
                tenant,
                t(50),
                "POST",
                "/Users",
                201,
                Some(ann_id.clone()),
                EventOperation::Create,
                Some("ann.lee@acme.example"),
            ),
            event(
                tenant,
                t(40),
                "PATCH",
                "/Users/x",
                200,
                Some(ann_id.clone()),
                EventOperation::Deactivate,
                None,
            ),
            event(
                tenant,
                t(30),
                "POST",
                "/Users",
                409,
                None,
                EventOperation::Create,
                Some("bob@acme.example"),
            ),
            event(
                tenant,
                t(20),
                "PATCH",
                "/Groups/g",
                200,
                Some(sales.id.to_string()),
                EventOperation::Membership,
                None,
            ),
            event(
                tenant,
                t(10),
                "GET",
                "/Users?filter=x",
                200,
                None,
                EventOperation::Lookup,
                Some("Bob@acme.example"),
            ),
            event(
                tenant,
                t(5),
                "DELETE",
                "/Users/gone",
                204,
                Some("1c0d0e0f-0000-4000-8000-000000000009".into()),
                EventOperation::Delete,
                None,
            ),
            event(
                other,
                t(5),
                "POST",
                "/Users",
                201,
                None,
                EventOperation::Create,
                Some("bob@acme.example"),
            ),
        ],
    )?;
    let paths = |filter: &EventFilter| -> Result<Vec<(String, i16)>, Error> {
        let (rows, _) = events::list(&mut test_db.connect(), tenant, filter, 0, 50)?;
        Ok(rows.into_iter().map(|e| (e.method, e.status)).collect())
    };

    let creates = EventFilter {
        operation: Some(EventOperation::Create),
        ..EventFilter::default()
    };
    assert_eq!(
        paths(&creates)?,
        [("POST".into(), 409), ("POST".into(), 201)]
    );
    let failed_creates = EventFilter {
        failed: Some(true),
        ..creates.clone()
    };
    assert_eq!(paths(&failed_creates)?, [("POST".into(), 409)]);

    // By the name a request carried (a failed create, a lookup), ignoring case, as a prefix;
    // never another tenant's.
    let bob = EventFilter {
        search: Some(EventSearch {
            text: "BOB@".into(),
            resource_ids: Vec::new(),
        }),
        ..EventFilter::default()
    };
    assert_eq!(paths(&bob)?, [("GET".into(), 200), ("POST".into(), 409)]);
    // By the resources whose names match now (found in the directory by the caller).
    let ann_now = EventFilter {
        search: Some(EventSearch {
            text: "Ann Lee".into(),
            resource_ids: vec![ann_id.clone()],
        }),
        ..EventFilter::default()
    };
    assert_eq!(
        paths(&ann_now)?,
        [("PATCH".into(), 200), ("POST".into(), 201)]
    );
    let wildcard = EventFilter {
        search: Some(EventSearch {
            text: "%".into(),
            resource_ids: Vec::new(),
        }),
        ..EventFilter::default()
    };
    assert!(
        paths(&wildcard)?.is_empty(),
        "a % is a character, not a wildcard"
    );
    assert_eq!(
        tenancy::directory::user_search::ids_matching(&mut conn, tenant, "ann lee", 10)?,
        [ann.id]
    );
    assert_eq!(
        groups::ids_named_like(&mut conn, tenant, "emea", 10)?,
        [sales.id]
    );

    // Names for a page: users and groups that exist; the deleted one is not named.
    let (page, total) = events::list(&mut conn, tenant, &EventFilter::default(), 0, 50)?;
    assert_eq!(total, 6);
    let names = events::names(&mut conn, tenant, &page)?;
    assert_eq!(names.len(), 2);
    assert!(matches!(
        names.get(&ann_id),
        Some(ResourceName::User { name, user_name, .. }) if name == "Ann Lee" && user_name == "ann.lee@acme.example"
    ));
    assert!(matches!(
        names.get(&sales.id.to_string()),
        Some(ResourceName::Group { name, .. }) if name == "Sales EMEA"
    ));

    // A resource's history, newest first.
    let history = events::recent_about(&mut conn, tenant, &ann_id, 10)?;
    assert_eq!(
        history.iter().map(|e| e.operation).collect::<Vec<_>>(),
        [EventOperation::Deactivate, EventOperation::Create]
    );

    // The export's chunks: every event once, in order, whatever the chunk size.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let chunk = events::page_after(&mut conn, tenant, &EventFilter::default(), after, 4)?;
        seen.extend(chunk.iter().map(|e| e.id));
        if chunk.len() < 4 {
            break;
        }
        after = chunk.last().map(|e| (e.occurred_at, e.id));
    }
    assert_eq!(seen, page.iter().map(|e| e.id).collect::<Vec<_>>());
    Ok(())
}

fn totals(buckets: &[(DateTime<Utc>, i64, i64)]) -> (i64, i64) {
    buckets.iter().fold((0, 0), |(r, f), b| (r + b.1, f + b.2))
}

#[test]
fn chart_buckets_follow_the_range() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = openid_tenant(&mut conn, "Acme")?;
    let now = Utc::now();
    let minute = now.duration_trunc(Duration::minutes(1)).unwrap_or(now);
    let at = |ago: Duration, status| {
        event(
            tenant,
            minute - ago,
            "GET",
            "/Users",
            status,
            None,
            EventOperation::Lookup,
            None,
        )
    };
    events::insert_many(
        &mut conn,
        &[
            at(Duration::zero(), 200),
            at(Duration::zero(), 500),
            at(Duration::minutes(3), 200),
            at(Duration::minutes(20), 200),
            at(Duration::hours(30), 404),
        ],
    )?;
    let by_minute = events::buckets(
        &mut conn,
        tenant,
        Bucketing::Minute,
        minute - Duration::minutes(59),
    )?;
    assert_eq!(totals(&by_minute), (4, 1), "{by_minute:?}");
    assert_eq!(
        by_minute.last().map(|b| (b.0, b.1, b.2)),
        Some((minute, 2, 1))
    );
    let quarters = events::buckets(
        &mut conn,
        tenant,
        Bucketing::QuarterHour,
        Bucketing::QuarterHour.start_of(now) - Duration::minutes(15 * 95),
    )?;
    assert_eq!(quarters.iter().map(|b| b.1).sum::<i64>(), 4);
    assert!(
        quarters
            .iter()
            .all(|b| b.0 == Bucketing::QuarterHour.start_of(b.0))
    );
    let days = events::buckets(
        &mut conn,
        tenant,
        Bucketing::Day,
        Bucketing::Day.start_of(now) - Duration::days(29),
    )?;
    assert_eq!(totals(&days), (5, 2));
    // One bucket per UTC day the events fall on (three just after midnight, else two).
    let distinct_days: std::collections::BTreeSet<_> = [0, 3, 20, 30 * 60]
        .into_iter()
        .map(|ago| Bucketing::Day.start_of(minute - Duration::minutes(ago)))
        .collect();
    assert_eq!(days.len(), distinct_days.len(), "{days:?}");
    assert!(days.iter().all(|b| b.0 == Bucketing::Day.start_of(b.0)));
    Ok(())
}

#[test]
fn health_follows_the_tokens_the_requests_and_the_clock() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = openid_tenant(&mut conn, "Acme")?;
    let now = Utc::now();
    assert_eq!(health::load(&mut conn, tenant, now)?.state, State::NoToken);

    let issued = scim_tokens::issue(&mut conn, tenant, now, Duration::hours(1))?;
    let waiting = health::load(&mut conn, tenant, now)?;
    assert_eq!(
        (waiting.state, waiting.level),
        (State::Waiting, Level::Amber)
    );

    // The identity provider calls: connected, with today's requests and failures.
    let verified = scim_tokens::verify(&mut conn, tenant, &issued.token, now)?;
    assert!(verified.is_ok());
    let midnight = health::start_of_day(now);
    events::insert_many(
        &mut conn,
        &[
            event(
                tenant,
                midnight.max(now - Duration::seconds(2)),
                "GET",
                "/Users",
                200,
                None,
                EventOperation::Lookup,
                None,
            ),
            event(
                tenant,
                midnight.max(now - Duration::seconds(1)),
                "POST",
                "/Users",
                409,
                None,
                EventOperation::Create,
                Some("x"),
            ),
            event(
                tenant,
                midnight - Duration::minutes(5),
                "GET",
                "/Users",
                200,
                None,
                EventOperation::Lookup,
                None,
            ),
        ],
    )?;
    let connected = health::load(&mut conn, tenant, now)?;
    assert_eq!(
        (connected.state, connected.level),
        (State::Connected, Level::Green)
    );
    assert_eq!((connected.requests_today, connected.failed_today), (2, 1));
    assert!(
        connected
            .message
            .starts_with("Connected: last request just now · 2 requests today, 1 failed"),
        "{}",
        connected.message
    );

    // Later, by the clock: silent, then expired.
    let later = health::load(&mut conn, tenant, now + Duration::days(63))?;
    assert_eq!(
        (later.state, later.message.as_str()),
        (State::Silent, "No request for 63 days.")
    );
    assert_eq!(
        health::load(&mut conn, tenant, now + Duration::days(366))?.state,
        State::TokenExpired
    );

    // Refused requests in the last hour turn it red, with the last client's user agent.
    rejections::record_many(
        &mut conn,
        &[Rejected {
            tenant_id: tenant,
            minute: now.duration_trunc(Duration::minutes(1)).unwrap_or(now),
            reason: RejectionReason::UnknownToken,
            requests: 12,
            last_at: now,
            last_address: "203.0.113.9".into(),
            last_user_agent: Some("Okta SCIM Client 1.0.0".into()),
        }],
    )?;
    let rejected = health::load(&mut conn, tenant, now)?;
    assert_eq!(
        (rejected.state, rejected.level),
        (State::Rejected, Level::Red)
    );
    assert!(rejected.message.starts_with(
        "Rejected: 12 requests in the last hour used a token that is not this organisation's"
    ));
    assert!(
        rejected
            .message
            .contains("user agent Okta SCIM Client 1.0.0")
    );
    assert_eq!(
        health::load(&mut conn, tenant, now + Duration::hours(2))?.state,
        State::Connected,
        "an hour later the refusals are history"
    );
    Ok(())
}

#[test]
fn hints_come_from_the_last_seven_days_of_traffic() -> Result<(), Error> {
    use tenancy::hints::{self, HintKind};
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = openid_tenant(&mut conn, "Acme")?;
    let now = Utc::now();
    assert!(
        hints::hints(&mut conn, tenant, now)?.is_empty(),
        "no traffic, no hints"
    );

    let ago = |minutes: i64| now - Duration::minutes(minutes);
    let conflict = |at| {
        event(
            tenant,
            at,
            "POST",
            "/Users",
            409,
            None,
            EventOperation::Create,
            Some("dup@acme.example"),
        )
    };
    let mut filter_refused = event(
        tenant,
        ago(7),
        "GET",
        "/Users?filter=x",
        400,
        None,
        EventOperation::Lookup,
        None,
    );
    filter_refused.response = Some(json!({"status": "400", "scimType": "invalidFilter"}));
    let mut replace = event(
        tenant,
        ago(6),
        "PUT",
        "/Users/u",
        200,
        Some("u".into()),
        EventOperation::Update,
        Some("u"),
    );
    replace.payload = Some(json!({"userName": "u"}));
    let mut replace_with_active = replace.clone();
    replace_with_active.payload = Some(json!({"userName": "u", "active": false}));
    events::insert_many(
        &mut conn,
        &[
            conflict(ago(30)),
            conflict(ago(20)),
            conflict(ago(10)),
            conflict(now - Duration::days(8)),
            event(
                tenant,
                ago(9),
                "PATCH",
                "/Groups/g",
                404,
                Some("g".into()),
                EventOperation::Membership,
                None,
            ),
            filter_refused,
            replace,
            replace_with_active,
        ],
    )?;
    rejections::record_many(
        &mut conn,
        &[Rejected {
            tenant_id: tenant,
            minute: (now - Duration::hours(3))
                .duration_trunc(Duration::minutes(1))
                .unwrap_or(now),
            reason: RejectionReason::RevokedToken,
            requests: 5,
            last_at: now - Duration::hours(3),
            last_address: "203.0.113.9".into(),
            last_user_agent: None,
        }],
    )?;

    let found = hints::hints(&mut conn, tenant, now)?;
    let kinds: Vec<HintKind> = found.iter().map(|h| h.kind).collect();
    assert_eq!(
        kinds,
        [
            HintKind::ReplaceWithoutActive,
            HintKind::RefusedFilters,
            HintKind::MissingGroups,
            HintKind::DuplicateCreates,
            HintKind::RefusedTokens,
        ],
        "newest first: {found:?}"
    );
    let duplicates = &found[3];
    assert_eq!(
        duplicates.requests, 3,
        "the create of 8 days ago is outside the window"
    );
    assert_eq!(duplicates.filter, "operation=create&status=failed&range=7d");
    assert_eq!(
        found[0].requests, 1,
        "the replace that carried active is fine"
    );
    assert_eq!(found[4].requests, 5);
    assert!(found.iter().all(|h| !h.fix.is_empty()));
    Ok(())
}
