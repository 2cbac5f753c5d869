//! The queue of deliveries: claimed by any server (`FOR UPDATE SKIP LOCKED`, with a lease so
//! that a server that dies mid-send leaves its claim to another), retried with exponential
//! back-off for more than a day, and listed for the console as a delivery log.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid};
use serde_json::Value;

use crate::error::Result;
use crate::ids::{DeliveryId, EndpointId, NotificationId, TenantId};
use crate::schema::{notification_deliveries, notifications};
use crate::stored::{NotificationChannel, NotificationKind};

/// How long a claimed delivery is left to the server that claimed it.
pub const LEASE: Duration = Duration::minutes(2);
/// How long a delivery is retried before it is given up (at least 24 hours of retries).
pub const GIVE_UP_AFTER: Duration = Duration::hours(26);
/// The first retry's wait; each further one doubles, up to [`MAX_BACKOFF`].
pub const FIRST_BACKOFF: Duration = Duration::seconds(30);
/// The longest wait between two attempts.
pub const MAX_BACKOFF: Duration = Duration::hours(2);

/// The wait before the next attempt after `attempts` failed ones.
pub fn backoff(attempts: i32) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    (FIRST_BACKOFF * 2_i32.saturating_pow(doublings)).min(MAX_BACKOFF)
}

/// A delivery claimed for sending, with what it is to say.
#[derive(Debug, Clone, QueryableByName)]
pub struct Due {
    /// The tenant.
    #[diesel(sql_type = Uuid)]
    pub tenant_id: TenantId,
    /// The delivery.
    #[diesel(sql_type = Uuid)]
    pub id: DeliveryId,
    /// Its notification (the webhook's `webhook-id`, the same on every retry).
    #[diesel(sql_type = Uuid)]
    pub notification_id: NotificationId,
    /// E-mail or webhook.
    #[diesel(sql_type = Text)]
    pub channel: NotificationChannel,
    /// The endpoint, for a webhook.
    #[diesel(sql_type = Nullable<Uuid>)]
    pub endpoint_id: Option<EndpointId>,
    /// The address, for an e-mail.
    #[diesel(sql_type = Nullable<Text>)]
    pub recipient: Option<String>,
    /// This attempt's number (1 for the first).
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    /// What happened.
    #[diesel(sql_type = Text)]
    pub kind: NotificationKind,
    /// The facts of it.
    #[diesel(sql_type = Jsonb)]
    pub data: Value,
    /// When it was decided.
    #[diesel(sql_type = Timestamptz)]
    pub decided_at: DateTime<Utc>,
    /// The tenant's name.
    #[diesel(sql_type = Text)]
    pub tenant_name: String,
}

/// Claims at most `limit` deliveries that are due at `now`, across tenants: each is leased to
/// the caller for [`LEASE`] and counted as an attempt. Another server's claims are skipped.
pub fn claim_due(conn: &mut PgConnection, now: DateTime<Utc>, limit: i64) -> Result<Vec<Due>> {
    Ok(diesel::sql_query(
        "WITH due AS (SELECT tenant_id, id FROM notification_deliveries \
           WHERE delivered_at IS NULL AND gave_up_at IS NULL AND next_attempt_at <= $1 \
           ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED) \
         UPDATE notification_deliveries d SET attempts = d.attempts + 1, last_attempt_at = $1, \
           next_attempt_at = $1 + $3 * interval '1 second' \
         FROM due, notifications n, tenants t \
         WHERE d.tenant_id = due.tenant_id AND d.id = due.id \
           AND n.tenant_id = d.tenant_id AND n.id = d.notification_id AND t.id = d.tenant_id \
         RETURNING d.tenant_id, d.id, d.notification_id, d.channel, d.endpoint_id, d.recipient, \
           d.attempts, n.kind, n.data, n.created_at AS decided_at, t.name AS tenant_name",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(limit)
    .bind::<BigInt, _>(LEASE.num_seconds())
    .load(conn)?)
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Accepted (a 2xx answer; the SMTP server took the message).
    Delivered {
        /// The HTTP status, for a webhook.
        status: Option<i32>,
    },
    /// Not accepted; tried again later.
    Failed {
        /// The HTTP status or SMTP reply code, when there was an answer.
        status: Option<i32>,
        /// What went wrong, in plain words (never a secret).
        error: String,
    },
}

/// The result of one attempt, to record.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The delivery.
    pub tenant: TenantId,
    /// The delivery.
    pub delivery: DeliveryId,
    /// Its attempt number.
    pub attempts: i32,
    /// When it was decided (for giving up).
    pub decided_at: DateTime<Utc>,
    /// What came of it.
    pub outcome: Outcome,
}

/// Records an attempt: delivered, or failed and due again after its back-off, or given up when
/// it has been retried for [`GIVE_UP_AFTER`]. Whether it was given up.
pub fn record_attempt(
    conn: &mut PgConnection,
    attempt: &Attempt,
    now: DateTime<Utc>,
) -> Result<bool> {
    let row = notification_deliveries::table.find((attempt.tenant, attempt.delivery));
    match &attempt.outcome {
        Outcome::Delivered { status } => {
            diesel::update(row)
                .set((
                    notification_deliveries::delivered_at.eq(Some(now)),
                    notification_deliveries::last_status.eq(*status),
                    notification_deliveries::last_error.eq(None::<String>),
                ))
                .execute(conn)?;
            Ok(false)
        }
        Outcome::Failed { status, error } => {
            let next = now + backoff(attempt.attempts);
            let give_up = next - attempt.decided_at > GIVE_UP_AFTER;
            let error: String = error.chars().take(500).collect();
            diesel::update(row)
                .set((
                    notification_deliveries::last_status.eq(*status),
                    notification_deliveries::last_error.eq(Some(error)),
                    notification_deliveries::next_attempt_at.eq(next),
                    notification_deliveries::gave_up_at.eq(give_up.then_some(now)),
                ))
                .execute(conn)?;
            Ok(give_up)
        }
    }
}

/// A delivery as the console's log shows it.
#[derive(Debug, Clone, Queryable)]
pub struct DeliveryRow {
    /// The delivery.
    pub id: DeliveryId,
    /// E-mail or webhook.
    pub channel: NotificationChannel,
    /// The endpoint, for a webhook.
    pub endpoint_id: Option<EndpointId>,
    /// The address, for an e-mail.
    pub recipient: Option<String>,
    /// What it was about.
    pub kind: NotificationKind,
    /// Attempts so far.
    pub attempts: i32,
    /// The last attempt.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// Its HTTP status or SMTP code.
    pub last_status: Option<i32>,
    /// Its error.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When it was given up.
    pub gave_up_at: Option<DateTime<Utc>>,
    /// When the next attempt is due (when neither).
    pub next_attempt_at: DateTime<Utc>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
}

/// The tenant's latest deliveries, newest first: `limit` per endpoint and of e-mail.
pub fn recent(conn: &mut PgConnection, tenant: TenantId, limit: i64) -> Result<Vec<DeliveryRow>> {
    let select = (
        notification_deliveries::id,
        notification_deliveries::channel,
        notification_deliveries::endpoint_id,
        notification_deliveries::recipient,
        notifications::kind,
        notification_deliveries::attempts,
        notification_deliveries::last_attempt_at,
        notification_deliveries::last_status,
        notification_deliveries::last_error,
        notification_deliveries::delivered_at,
        notification_deliveries::gave_up_at,
        notification_deliveries::next_attempt_at,
        notification_deliveries::created_at,
    );
    let base = || {
        notification_deliveries::table
            .inner_join(
                notifications::table.on(notifications::tenant_id
                    .eq(notification_deliveries::tenant_id)
                    .and(notifications::id.eq(notification_deliveries::notification_id))),
            )
            .filter(notification_deliveries::tenant_id.eq(tenant))
            .order((
                notification_deliveries::created_at.desc(),
                notification_deliveries::id.desc(),
            ))
            .limit(limit)
            .select(select)
    };
    let mut rows: Vec<DeliveryRow> = base()
        .filter(notification_deliveries::channel.eq(NotificationChannel::Email))
        .load(conn)?;
    for endpoint in super::endpoints::list(conn, tenant)? {
        rows.extend(
            base()
                .filter(notification_deliveries::endpoint_id.eq(endpoint.id))
                .load::<DeliveryRow>(conn)?,
        );
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_doubles_from_thirty_seconds_to_two_hours() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::seconds(60));
        assert_eq!(backoff(5), Duration::seconds(480));
        assert_eq!(backoff(9), Duration::hours(2));
        assert_eq!(backoff(40), Duration::hours(2));
        assert_eq!(backoff(0), Duration::seconds(30));
    }
}
