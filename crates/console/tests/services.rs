//! The console's services called directly, without HTTP: they take the database and plain
//! values, and do their work in one unit against a real PostgreSQL.

use chrono::Utc;
use console::pages::users::service::{self, CardAdded, UserSearch};
use serde_json::json;
use tenancy::audit::Actor;
use tenancy::directory::users::{self, UserFields};
use tenancy::events::{self, NewEvent};
use tenancy::stored::{EventOperation, UserSource};
use tenancy::tenants::{self, NewTenant};
use tenancy::{CrossTenant, TenantId, UserId};
use testkit::TestDb;

async fn tenant(test_db: &TestDb) -> TenantId {
    test_db
        .db()
        .run_across_tenants(CrossTenant::Operator, |conn| {
            tenants::create(
                conn,
                &NewTenant {
                    name: "Services".into(),
                    scim_enabled: true,
                    openid: None,
                },
                &tenancy::sealed::SecretKeys::for_tests(),
            )
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .id
}

async fn user(test_db: &TestDb, tenant: TenantId, doc: serde_json::Value) -> UserId {
    test_db
        .db()
        .run(tenant, move |conn| {
            let fields = UserFields::from_document(doc)?;
            users::insert(conn, tenant, &fields, UserSource::Scim, Utc::now())
        })
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .id
}

#[tokio::test]
async fn a_card_number_someone_holds_is_refused_with_their_name() {
    let test_db = TestDb::new();
    let db = test_db.db();
    let tenant = tenant(&test_db).await;
    let ann = user(
        &test_db,
        tenant,
        json!({"userName": "ann@acme.example", "name": {"givenName": "Ann", "familyName": "Lee"}}),
    )
    .await;
    let bob = user(&test_db, tenant, json!({"userName": "bob@acme.example"})).await;

    let first = service::add_card(db, tenant, ann, "B-1".into(), Actor::operator()).await;
    let taken = service::add_card(db, tenant, bob, " B-1 ".into(), Actor::operator()).await;
    let again = service::add_card(db, tenant, ann, "B-1".into(), Actor::operator()).await;

    assert!(matches!(first, Ok(CardAdded::Added(_))), "{first:?}");
    match taken {
        Ok(CardAdded::Refused(detail, refused)) => {
            assert_eq!(detail.row.id, bob, "the page shown again is Bob's");
            assert!(detail.cards.is_empty());
            assert_eq!(
                refused.holder,
                Some((ann, "Ann Lee (ann@acme.example)".to_owned()))
            );
            assert!(refused.message.contains("already belongs to Ann Lee"));
        }
        other => panic!("expected a refusal naming Ann: {other:?}"),
    }
    match again {
        Ok(CardAdded::Refused(_, refused)) => {
            assert_eq!(refused.holder, None, "no link to the user's own page");
            assert_eq!(refused.message, "This user already has card B-1.");
        }
        other => panic!("expected a refusal: {other:?}"),
    }
}

#[tokio::test]
async fn a_user_created_deactivated_shows_the_request_that_created_them() {
    let test_db = TestDb::new();
    let db = test_db.db();
    let tenant = tenant(&test_db).await;
    let gone = user(
        &test_db,
        tenant,
        json!({"userName": "gone@acme.example", "active": false}),
    )
    .await;
    // Created deactivated: the POST that created them is what deactivated them.
    let deactivation = NewEvent {
        tenant_id: tenant,
        occurred_at: Utc::now() - chrono::Duration::seconds(1),
        method: "POST".into(),
        path: "/Users".into(),
        status: 201,
        resource_type: Some("User".into()),
        resource_id: Some(gone.to_string()),
        token_id: None,
        duration_us: 900,
        error: None,
        payload: None,
        operation: EventOperation::Create,
        subject: None,
        response: None,
    };
    db.run(tenant, move |conn| {
        events::insert_many(conn, &[deactivation])
    })
    .await
    .unwrap_or_else(|e| panic!("{e}"));

    let detail = service::user_detail(db, tenant, gone)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let listed = service::list_users(
        db,
        tenant,
        &UserSearch {
            text: "GONE".into(),
            active: Some(false),
            source: None,
        },
        0,
        50,
    )
    .await
    .unwrap_or_else(|e| panic!("{e:?}"));

    assert!(!detail.row.active);
    assert_eq!(
        detail.deactivated_by.map(|e| e.method).as_deref(),
        Some("POST")
    );
    assert_eq!(listed.total, 1);
    assert_eq!((listed.counts.active, listed.counts.deactivated), (0, 1));
}
