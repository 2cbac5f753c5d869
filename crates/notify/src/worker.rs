//! The notification worker every server runs: every minute it decides what to tell each tenant
//! whose SCIM is on, and every few seconds it sends what is due — claimed from the shared queue,
//! so that several servers share the work and each delivery is sent by one of them. Nothing
//! here runs on a request path; a failure is recorded on the delivery and retried.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde_json::json;
use tenancy::notifications::{
    self, Attempt, Decided, Due, Occasion, Outcome, SpikeThreshold, deliveries, endpoints,
    occasions,
};
use tenancy::sealed::SecretKeys;
use tenancy::stored::{NotificationChannel, NotificationKind};
use tenancy::{CrossTenant, Db};

use crate::error::NotifyError;
use crate::mail::Mailer;
use crate::{message, webhook};

/// How often due deliveries are looked for.
const SEND_EVERY: StdDuration = StdDuration::from_secs(2);
/// Deliveries claimed at once.
const CLAIM: i64 = 50;

/// What the worker is configured with.
#[derive(Debug, Clone)]
pub struct NotifierSettings {
    /// The console's public base URL (`INSIGHTS_PUBLIC_URL`), for the links.
    pub public_url: String,
    /// When a deprovisioning spike is announced.
    pub spike: SpikeThreshold,
    /// How often occasions are looked for (`INSIGHTS_NOTICE_INTERVAL_SECONDS`, 60 s).
    pub notice_every: StdDuration,
}

/// Decides and sends notifications. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    db: Db,
    keys: Arc<SecretKeys>,
    mailer: Option<Mailer>,
    client: reqwest::Client,
    settings: NotifierSettings,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("mailer", &self.mailer)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A worker on `db`; e-mail is off when `mailer` is `None`.
    pub fn new(
        db: Db,
        keys: Arc<SecretKeys>,
        mailer: Option<Mailer>,
        settings: NotifierSettings,
    ) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            db,
            keys,
            mailer,
            client,
            settings,
        }
    }

    /// Whether e-mail is configured.
    pub fn email_on(&self) -> bool {
        self.mailer.is_some()
    }

    /// Runs until dropped: sends what is due every [`SEND_EVERY`], decides every
    /// `notice_every`. Failures are logged and tried again.
    pub async fn run(self) {
        let mut ticks = tokio::time::interval(SEND_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_notice: Option<tokio::time::Instant> = None;
        loop {
            ticks.tick().await;
            if last_notice.is_none_or(|at| at.elapsed() >= self.settings.notice_every) {
                last_notice = Some(tokio::time::Instant::now());
                if let Err(error) = self.notice_all(Utc::now()).await {
                    tracing::warn!(%error, "deciding notifications failed; trying again in a minute");
                }
            }
            if let Err(error) = self.deliver_due(Utc::now()).await {
                tracing::warn!(%error, "sending notifications failed; trying again shortly");
            }
        }
    }

    /// Decides, as of `now`, every tenant's new notifications and queues their deliveries.
    pub async fn notice_all(&self, now: DateTime<Utc>) -> Result<Vec<Decided>, NotifyError> {
        let tenants = self
            .db
            .run_across_tenants(CrossTenant::Notifications, occasions::tenants_to_watch)
            .await?;
        let mut decided = Vec::new();
        for tenant in tenants {
            let (spike, email) = (self.settings.spike, self.email_on());
            let new = self
                .db
                .run(tenant, move |conn| {
                    occasions::notice(conn, tenant, spike, email, now)
                })
                .await?;
            for notification in &new {
                tracing::info!(tenant_id = %tenant, kind = %notification.kind, deliveries = notification.deliveries, "notification decided");
            }
            decided.extend(new);
        }
        Ok(decided)
    }

    /// Queues a test notification for `tenant` (the console's Send a test).
    pub async fn send_test(
        &self,
        tenant: tenancy::TenantId,
        now: DateTime<Utc>,
    ) -> Result<Option<Decided>, NotifyError> {
        let email = self.email_on();
        Ok(self
            .db
            .run(tenant, move |conn| {
                notifications::occasions::record(
                    conn,
                    tenant,
                    &occasions::test_occasion(now),
                    email,
                    now,
                )
            })
            .await?)
    }

    /// Mails an invitation link to `to` now (the console's Invite), when e-mail is configured:
    /// `Ok(false)` when it is not, the relay's answer in words when it failed.
    pub async fn send_invitation(
        &self,
        to: &str,
        invitation: &message::InvitationMail<'_>,
    ) -> Result<bool, String> {
        let Some(mailer) = &self.mailer else {
            return Ok(false);
        };
        mailer
            .send(to, &message::invitation(invitation))
            .await
            .map(|()| true)
            .map_err(|(_, error)| error)
    }

    /// Sends what is due at `now` (claimed from the shared queue) and records each attempt.
    /// Returns how many were sent successfully.
    pub async fn deliver_due(&self, now: DateTime<Utc>) -> Result<usize, NotifyError> {
        let due = self
            .db
            .run_across_tenants(CrossTenant::Notifications, move |conn| {
                deliveries::claim_due(conn, now, CLAIM)
            })
            .await?;
        let mut delivered = 0;
        for due in due {
            let outcome = self.attempt(&due).await?;
            if matches!(outcome, Outcome::Delivered { .. }) {
                delivered += 1;
            }
            self.record(&due, outcome, now).await?;
        }
        Ok(delivered)
    }

    async fn attempt(&self, due: &Due) -> Result<Outcome, NotifyError> {
        let failed = |(status, error): (Option<i32>, String)| Outcome::Failed { status, error };
        match due.channel {
            NotificationChannel::Email => {
                let (Some(mailer), Some(to)) = (&self.mailer, &due.recipient) else {
                    return Ok(failed((
                        None,
                        "e-mail is not configured (INSIGHTS_SMTP_URL)".into(),
                    )));
                };
                let rendered = message::email(due, &self.settings.public_url);
                Ok(match mailer.send(to, &rendered).await {
                    Ok(()) => Outcome::Delivered { status: None },
                    Err(error) => failed(error),
                })
            }
            NotificationChannel::Webhook => {
                let Some(endpoint) = due.endpoint_id else {
                    return Ok(failed((None, "no endpoint".into())));
                };
                let (tenant, keys) = (due.tenant_id, self.keys.clone());
                let target = self
                    .db
                    .run(tenant, move |conn| {
                        endpoints::for_delivery(conn, tenant, endpoint, &keys)
                    })
                    .await?;
                let Some((url, secret, enabled)) = target else {
                    return Ok(failed((None, "the endpoint was removed".into())));
                };
                if !enabled {
                    return Ok(failed((None, "the endpoint is disabled".into())));
                }
                let body = message::webhook_body(due, &self.settings.public_url).to_string();
                let id = format!("msg_{}", due.notification_id.as_uuid().simple());
                let sent = webhook::deliver(
                    &self.client,
                    &url,
                    &secret,
                    &id,
                    Utc::now().timestamp(),
                    body.as_bytes(),
                )
                .await;
                Ok(match sent {
                    Ok(status) => Outcome::Delivered {
                        status: Some(status),
                    },
                    Err(error) => failed(error),
                })
            }
        }
    }

    /// Records the attempt, the endpoint's failure clock, and — when this failure disabled the
    /// endpoint — the e-mail that says so.
    async fn record(
        &self,
        due: &Due,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), NotifyError> {
        let attempt = Attempt {
            tenant: due.tenant_id,
            delivery: due.id,
            attempts: due.attempts,
            decided_at: due.decided_at,
            outcome,
        };
        let (tenant, endpoint, email) = (due.tenant_id, due.endpoint_id, self.email_on());
        let gave_up = self
            .db
            .run(tenant, move |conn| -> Result<bool, tenancy::Error> {
                tenancy::transaction(conn, |conn| {
                    let gave_up = deliveries::record_attempt(conn, &attempt, now)?;
                    if let Some(endpoint) = endpoint {
                        let succeeded = matches!(attempt.outcome, Outcome::Delivered { .. });
                        if endpoints::note_outcome(conn, tenant, endpoint, succeeded, now)? {
                            let url = endpoints::list(conn, tenant)?
                                .into_iter()
                                .find(|e| e.id == endpoint)
                                .map(|e| e.url)
                                .unwrap_or_default();
                            let disabled = Occasion {
                                kind: NotificationKind::EndpointDisabled,
                                key: format!("{endpoint}:{}", now.timestamp()),
                                data: json!({"url": url}),
                            };
                            occasions::record(conn, tenant, &disabled, email, now)?;
                            tracing::warn!(tenant_id = %tenant, endpoint_id = %endpoint, "a webhook endpoint failed for three days and was disabled");
                        }
                    }
                    Ok(gave_up)
                })
            })
            .await?;
        if gave_up {
            tracing::warn!(tenant_id = %due.tenant_id, delivery_id = %due.id, channel = %due.channel, kind = %due.kind, "a notification could not be delivered for a day and was given up");
        }
        Ok(())
    }
}
