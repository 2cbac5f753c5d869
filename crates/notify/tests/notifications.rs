//! Notifications end to end against a real PostgreSQL, a real SMTP server and a real HTTP
//! receiver on loopback, with the clock passed in: exactly once with two servers, what a
//! message says (and never a token), retries after the relay was down, signed webhooks, and an
//! endpoint disabled after three days of failures.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use notify::{MailSettings, Mailer, Notifier, NotifierSettings, signature};
use tenancy::notifications::{SpikeThreshold, endpoints};
use tenancy::sealed::SecretKeys;
use tenancy::stored::NotificationKind;
use tenancy::tenants::{NewTenant, OpenIdSettings};
use tenancy::{Db, Error, TenantId, bootstrap, scim_tokens};
use testkit::TestDb;
use testkit::http_receiver::HttpReceiver;
use testkit::smtp::SmtpSink;

const PUBLIC_URL: &str = "https://insights.example";

struct Arranged {
    test_db: TestDb,
    tenant: TenantId,
    token: String,
    one_time_password: String,
}

/// A SCIM tenant "Acme Corp" with one admin and a token issued at `issued_at`.
fn arrange(issued_at: DateTime<Utc>) -> Result<Arranged, Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let (tenant, admin) = bootstrap::create_tenant_with_admin(
        &mut conn,
        &NewTenant {
            name: "Acme Corp".into(),
            scim_enabled: true,
            openid: Some(OpenIdSettings {
                issuer: "https://idp.example/".into(),
                client_id: "insights".into(),
                client_secret: "idp-secret".into(),
            }),
        },
        Some("it-admin@acme.example"),
        &SecretKeys::for_tests(),
    )?;
    let issued = scim_tokens::issue(
        &mut conn,
        tenant.id,
        issued_at,
        scim_tokens::DEFAULT_OVERLAP,
    )?;
    Ok(Arranged {
        test_db,
        tenant: tenant.id,
        token: issued.token,
        one_time_password: admin.map(|(_, password)| password).unwrap_or_default(),
    })
}

fn notifier(db: &Db, sink: Option<&SmtpSink>) -> Notifier {
    let mailer = sink.and_then(|sink| {
        Mailer::from_settings(&MailSettings {
            smtp_url: Some(sink.url()),
            from: Some("Insights <notifications@insights.example>".into()),
        })
        .ok()
        .flatten()
    });
    Notifier::new(
        db.clone(),
        Arc::new(SecretKeys::for_tests()),
        mailer,
        NotifierSettings {
            public_url: PUBLIC_URL.into(),
            spike: SpikeThreshold::default(),
            notice_every: std::time::Duration::from_secs(60),
        },
    )
}

#[tokio::test]
async fn expiry_is_mailed_exactly_once_by_two_servers_and_says_what_to_do()
-> Result<(), notify::NotifyError> {
    let now = Utc::now();
    // Issued 360 days ago: it expires in 5 days, past the 7-day threshold.
    let a = arrange(now - Duration::days(360))?;
    let sink = SmtpSink::start();
    // Two servers: two pools, two workers, on one database.
    let (one, two) = (
        notifier(&Db::new(a.test_db.url(), 2), Some(&sink)),
        notifier(&Db::new(a.test_db.url(), 2), Some(&sink)),
    );
    let (first, second) = tokio::join!(one.notice_all(now), two.notice_all(now));
    let decided: Vec<_> = first?.into_iter().chain(second?).collect();
    assert_eq!(decided.len(), 1, "{decided:?}");
    assert_eq!(decided[0].kind, NotificationKind::TokenExpiring);
    let (sent_one, sent_two) = tokio::join!(one.deliver_due(now), two.deliver_due(now));
    assert_eq!(sent_one? + sent_two?, 1);
    // Restarted servers, a minute later: nothing new.
    assert!(one.notice_all(now + Duration::minutes(1)).await?.is_empty());
    assert_eq!(two.deliver_due(now + Duration::hours(1)).await?, 0);

    let received = sink.wait_for(1, StdDuration::from_secs(5));
    assert_eq!(received.len(), 1);
    let mail = &received[0];
    assert_eq!(mail.to, vec!["it-admin@acme.example".to_owned()]);
    assert!(mail.data.contains("Acme Corp"), "{}", mail.data);
    assert!(mail.data.contains("expires in 7 day(s)"), "{}", mail.data);
    assert!(mail.data.contains("Regenerate Token"));
    assert!(
        mail.data
            .contains("https://insights.example/console/secure/advanced/user-group-sync")
    );
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
    assert!(!mail.data.contains(&a.token), "never the token");
    assert!(
        !mail.data.contains(&a.one_time_password),
        "never a password"
    );
    assert!(!mail.data.contains("idp-secret"));

    // The next threshold is a notification of its own; nothing for a tenant without SCIM.
    assert_eq!(
        one.notice_all(now + Duration::days(4) + Duration::hours(1))
            .await?
            .len(),
        1
    );
    let mut conn = a.test_db.connect();
    tenancy::tenants::set_scim_enabled(&mut conn, a.tenant, false)?;
    assert!(one.notice_all(now + Duration::days(6)).await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn a_message_is_retried_with_back_off_after_the_relay_was_down()
-> Result<(), notify::NotifyError> {
    let now = Utc::now();
    let a = arrange(now)?;
    let sink = SmtpSink::start();
    let worker = notifier(a.test_db.db(), Some(&sink));
    sink.refuse_next(1);
    assert!(worker.send_test(a.tenant, now).await?.is_some());
    assert_eq!(worker.deliver_due(now).await?, 0, "the relay was down");
    let mut conn = a.test_db.connect();
    let log = tenancy::notifications::deliveries::recent(&mut conn, a.tenant, 10)?;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].attempts, 1);
    assert!(
        log[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("SMTP")),
        "{log:?}"
    );
    assert_eq!(log[0].last_status, Some(421));
    // Not due again before its back-off; then delivered.
    assert_eq!(worker.deliver_due(now + Duration::seconds(10)).await?, 0);
    assert_eq!(worker.deliver_due(now + Duration::seconds(31)).await?, 1);
    assert_eq!(sink.wait_for(1, StdDuration::from_secs(5)).len(), 1);
    let log = tenancy::notifications::deliveries::recent(&mut conn, a.tenant, 10)?;
    assert!(log[0].delivered_at.is_some() && log[0].last_error.is_none());
    Ok(())
}

#[tokio::test]
async fn webhooks_are_signed_retried_and_an_endpoint_failing_for_three_days_is_disabled()
-> Result<(), notify::NotifyError> {
    let start = Utc::now();
    let a = arrange(start)?;
    let sink = SmtpSink::start();
    let receiver = HttpReceiver::start();
    let worker = notifier(a.test_db.db(), Some(&sink));
    let secret = signature::new_secret();
    let mut conn = a.test_db.connect();
    let endpoint = endpoints::add(
        &mut conn,
        a.tenant,
        &receiver.url(),
        &secret,
        &SecretKeys::for_tests(),
        start,
    )?;
    let stored: String = {
        use diesel::prelude::*;
        tenancy::schema::notification_endpoints::table
            .select(tenancy::schema::notification_endpoints::secret_sealed)
            .first(&mut conn)
            .map_err(Error::from)?
    };
    assert!(
        !stored.contains(&secret[6..]),
        "the secret is stored sealed"
    );

    receiver.answer_next(&[500]);
    worker.send_test(a.tenant, start).await?;
    assert_eq!(worker.deliver_due(start).await?, 1, "the e-mail went out");
    assert_eq!(
        worker.deliver_due(start + Duration::seconds(31)).await?,
        1,
        "the webhook's retry"
    );
    let requests = receiver.wait_for(2, StdDuration::from_secs(5));
    assert_eq!(
        requests.iter().map(|r| r.answered).collect::<Vec<_>>(),
        vec![500, 204]
    );
    for request in &requests {
        let header = |name: &str| request.headers.get(name).cloned().unwrap_or_default();
        let timestamp: i64 = header("webhook-timestamp").parse().unwrap_or_default();
        assert!(header("webhook-id").starts_with("msg_"));
        assert!(
            signature::verify(
                &secret,
                &header("webhook-id"),
                timestamp,
                &request.body,
                &header("webhook-signature")
            ),
            "the receiver verifies the signature"
        );
        let mut tampered = request.body.clone();
        tampered.push(b' ');
        assert!(!signature::verify(
            &secret,
            &header("webhook-id"),
            timestamp,
            &tampered,
            &header("webhook-signature")
        ));
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        assert_eq!(body["type"], "test");
        assert_eq!(body["data"]["tenant_name"], "Acme Corp");
    }
    assert_eq!(
        requests[0].headers["webhook-id"], requests[1].headers["webhook-id"],
        "a retry keeps its id"
    );

    // From the next day on every delivery fails: three days after the first failure the
    // endpoint is disabled, and the admins are told by e-mail.
    receiver.answer_always(Some(503));
    for day in 1..=4 {
        let at = start + Duration::days(day) + Duration::minutes(1);
        worker.send_test(a.tenant, at).await?;
        worker.deliver_due(at).await?;
    }
    let listed = endpoints::list(&mut conn, a.tenant)?;
    assert_eq!(listed[0].id, endpoint.id);
    assert!(listed[0].failing_since.is_some());
    assert!(!listed[0].enabled, "{listed:?}");
    assert!(listed[0].disabled_reason.is_some());
    let at = start + Duration::days(4) + Duration::minutes(2);
    worker.deliver_due(at).await?;
    let mails = sink.wait_for(5, StdDuration::from_secs(5));
    assert!(
        mails
            .iter()
            .any(|m| m.data.contains("webhook endpoint was disabled")),
        "{:?}",
        mails
            .iter()
            .map(|m| m
                .data
                .lines()
                .find(|l| l.starts_with("Subject"))
                .unwrap_or_default())
            .collect::<Vec<_>>()
    );
    Ok(())
}

#[tokio::test]
async fn a_burst_of_rejections_after_quiet_a_spike_and_silence_are_each_noticed_once()
-> Result<(), notify::NotifyError> {
    use chrono::DurationRound as _;
    use tenancy::events::{self, NewEvent};
    use tenancy::rejections::{self, Rejected};
    use tenancy::stored::{EventOperation, RejectionReason};

    let now = Utc::now()
        .duration_trunc(Duration::minutes(1))
        .unwrap_or_else(|_| Utc::now());
    let a = arrange(now - Duration::days(10))?;
    let mut conn = a.test_db.connect();
    let rejected = |minute: DateTime<Utc>| Rejected {
        tenant_id: a.tenant,
        minute,
        reason: RejectionReason::RevokedToken,
        requests: 3,
        last_at: minute,
        last_address: "203.0.113.9".into(),
        last_user_agent: Some("Okta SCIM Client 1.0.0".into()),
    };
    // A burst two hours ago (stale), quiet, then one 20 and 19 minutes ago.
    rejections::record_many(
        &mut conn,
        &[
            rejected(now - Duration::minutes(130)),
            rejected(now - Duration::minutes(20)),
            rejected(now - Duration::minutes(19)),
        ],
    )?;
    // 60 deactivations in the last hour among 100 users: more than 50.
    let deactivation = |i: i64| NewEvent {
        tenant_id: a.tenant,
        occurred_at: now - Duration::minutes(i % 50),
        method: "PATCH".into(),
        path: format!("/Users/{i}"),
        status: 200,
        resource_type: Some("User".into()),
        resource_id: None,
        token_id: None,
        duration_us: 10,
        error: None,
        payload: None,
        operation: EventOperation::Deactivate,
        subject: None,
        response: None,
    };
    events::insert_many(&mut conn, &(0..60).map(deactivation).collect::<Vec<_>>())?;
    // The identity provider last called 8 days ago.
    {
        use diesel::prelude::*;
        diesel::update(tenancy::schema::scim_tokens::table)
            .set(tenancy::schema::scim_tokens::last_used_at.eq(Some(now - Duration::days(8))))
            .execute(&mut conn)
            .map_err(Error::from)?;
    }

    let worker = notifier(a.test_db.db(), None);
    let mut kinds: Vec<_> = worker
        .notice_all(now)
        .await?
        .into_iter()
        .map(|d| d.kind)
        .collect();
    kinds.sort_by_key(|kind| kind.as_str());
    assert_eq!(
        kinds,
        vec![
            NotificationKind::ConnectionRejected,
            NotificationKind::ConnectionSilent,
            NotificationKind::DeprovisioningSpike,
        ]
    );
    let data: Vec<(String, serde_json::Value)> = {
        use diesel::prelude::*;
        use tenancy::schema::notifications as n;
        n::table
            .select((n::occasion, n::data))
            .load(&mut conn)
            .map_err(Error::from)?
    };
    assert!(
        data.iter()
            .any(|(_, d)| d["requests"] == 6 && d["user_agent"] == "Okta SCIM Client 1.0.0"),
        "{data:?}"
    );
    assert!(
        data.iter()
            .any(|(_, d)| d["deactivated"] == 60 && d["threshold"] == 50),
        "{data:?}"
    );
    assert!(data.iter().any(|(_, d)| d["days"] == 7), "{data:?}");
    // The same facts a minute later: nothing new; the same burst and spike go on: still
    // nothing, also past the next clock hour.
    rejections::record_many(&mut conn, &[rejected(now)])?;
    events::insert_many(&mut conn, &[deactivation(0)])?;
    assert!(
        worker
            .notice_all(now + Duration::minutes(1))
            .await?
            .is_empty()
    );
    assert!(
        worker
            .notice_all(now + Duration::minutes(30))
            .await?
            .is_empty()
    );
    // A tenant that chose 100 as its threshold has no spike in the same facts.
    let occasions = tenancy::notifications::occasions::detect(
        &mut conn,
        a.tenant,
        SpikeThreshold::default(),
        now,
    )?;
    assert!(
        occasions
            .iter()
            .any(|o| o.kind == NotificationKind::DeprovisioningSpike)
    );
    tenancy::notifications::occasions::set_own_spike_threshold(&mut conn, a.tenant, Some(100))?;
    let occasions = tenancy::notifications::occasions::detect(
        &mut conn,
        a.tenant,
        SpikeThreshold::default(),
        now,
    )?;
    assert!(
        !occasions
            .iter()
            .any(|o| o.kind == NotificationKind::DeprovisioningSpike),
        "{occasions:?}"
    );
    assert!(
        tenancy::notifications::occasions::set_own_spike_threshold(&mut conn, a.tenant, Some(0))
            .is_err()
    );
    Ok(())
}
