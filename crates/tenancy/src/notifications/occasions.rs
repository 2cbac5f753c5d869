//! Deciding what to tell a tenant, from what is stored: the token's expiry, refused requests,
//! the identity provider's last request and the last hour's deprovisioning. Each occasion has a
//! key (the token and the threshold, the burst's first minute, the hour...), and
//! [`record`] inserts it at most once per tenant; the insert that wins queues a delivery for
//! every admin (when e-mail is configured) and every enabled endpoint.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamptz, Uuid};
use serde_json::{Value, json};

use crate::error::Result;
use crate::ids::{DeliveryId, NotificationId, TenantId};
use crate::schema::{admins, notification_deliveries, notification_endpoints, notifications};
use crate::stored::{NotificationChannel, NotificationKind, TokenPurpose};

/// Days before expiry at which the token's expiry is announced.
pub const EXPIRY_THRESHOLDS: [i64; 4] = [30, 14, 7, 1];
/// Days without a request, after having been connected, at which silence is announced.
pub const SILENCE_THRESHOLDS: [i64; 3] = [7, 30, 60];
/// How long without a refused token before a new burst is announced again.
pub const QUIET_PERIOD: Duration = Duration::hours(1);

/// Something worth telling a tenant, with the key that makes it happen once.
#[derive(Debug, Clone, PartialEq)]
pub struct Occasion {
    /// What it is.
    pub kind: NotificationKind,
    /// Its key among the tenant's occasions of that kind.
    pub key: String,
    /// What the message says (also the webhook's `data`).
    pub data: Value,
}

/// A notification that was decided just now (its deliveries are queued).
#[derive(Debug, Clone)]
pub struct Decided {
    /// The tenant.
    pub tenant: TenantId,
    /// The notification.
    pub id: NotificationId,
    /// What it is.
    pub kind: NotificationKind,
    /// Deliveries queued.
    pub deliveries: usize,
}

/// When a deprovisioning spike is announced: more deactivations and deletions within an hour
/// than the larger of a share of the active users and a floor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpikeThreshold {
    /// The share of active users (0.10).
    pub share: f64,
    /// The floor (50).
    pub floor: i64,
}

impl Default for SpikeThreshold {
    fn default() -> Self {
        Self {
            share: 0.10,
            floor: 50,
        }
    }
}

impl SpikeThreshold {
    /// The number of deprovisionings an hour that trips it for `active` users.
    pub fn limit(self, active: i64) -> i64 {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_precision_loss,
            reason = "a share of a user count: far below f64's exact range"
        )]
        let share = (active as f64 * self.share).ceil() as i64;
        share.max(self.floor)
    }
}

/// Every occasion the tenant has right now. A tenant whose SCIM is off has none.
pub fn detect(
    conn: &mut PgConnection,
    tenant: TenantId,
    spike: SpikeThreshold,
    now: DateTime<Utc>,
) -> Result<Vec<Occasion>> {
    let row = crate::tenants::find(conn, tenant)?;
    if !row.scim_enabled {
        return Ok(Vec::new());
    }
    let mut found = Vec::new();
    let tokens = crate::scim_tokens::list(conn, tenant, 10)?;
    if let Some(current) = tokens
        .iter()
        .find(|t| t.purpose == TokenPurpose::IdentityProvider && t.revoked_at.is_none())
    {
        let left = current.expires_at - now;
        if left <= Duration::zero() {
            found.push(Occasion {
                kind: NotificationKind::TokenExpired,
                key: format!("{}", current.id),
                data: json!({"token_last4": current.last4, "expired_at": current.expires_at}),
            });
        } else if let Some(days) = EXPIRY_THRESHOLDS
            .iter()
            .rev()
            .find(|days| left <= Duration::days(**days))
        {
            found.push(Occasion {
                kind: NotificationKind::TokenExpiring,
                key: format!("{}:{days}", current.id),
                data: json!({
                    "token_last4": current.last4,
                    "expires_at": current.expires_at,
                    "days": days,
                }),
            });
        }
    }
    if let Some(last) = tokens.iter().filter_map(|t| t.last_used_at).max()
        && let Some(days) = SILENCE_THRESHOLDS
            .iter()
            .rev()
            .find(|days| now - last >= Duration::days(**days))
    {
        found.push(Occasion {
            kind: NotificationKind::ConnectionSilent,
            key: format!("{}:{days}", last.timestamp()),
            data: json!({"last_request_at": last, "days": days}),
        });
    }
    if let Some(burst) = rejected_burst(conn, tenant, now)? {
        found.push(burst);
    }
    if let Some(spike) = deprovisioning_spike(conn, tenant, spike, now)? {
        found.push(spike);
    }
    Ok(found)
}

#[derive(QueryableByName)]
struct Burst {
    #[diesel(sql_type = Timestamptz)]
    started: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    requests: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    user_agent: Option<String>,
}

/// The latest burst of requests with an unknown, revoked or expired token that began within
/// the last quiet period after a quiet period: its first minute is its key.
fn rejected_burst(
    conn: &mut PgConnection,
    tenant: TenantId,
    now: DateTime<Utc>,
) -> Result<Option<Occasion>> {
    let burst: Option<Burst> = diesel::sql_query(
        "WITH bad AS (SELECT minute, requests, last_user_agent FROM rejected_requests \
           WHERE tenant_id = $1 AND minute >= $2 - interval '2 hours' \
             AND reason IN ('unknown_token', 'revoked_token', 'expired_token')), \
         starts AS (SELECT b.minute FROM bad b WHERE b.minute >= $2 - interval '1 hour' \
           AND NOT EXISTS (SELECT 1 FROM bad p WHERE p.minute < b.minute \
             AND p.minute >= b.minute - interval '1 hour')) \
         SELECT s.minute AS started, \
           (SELECT sum(requests)::bigint FROM bad WHERE minute >= s.minute) AS requests, \
           (SELECT last_user_agent FROM bad WHERE minute >= s.minute ORDER BY minute DESC LIMIT 1) AS user_agent \
         FROM starts s ORDER BY s.minute DESC LIMIT 1",
    )
    .bind::<Uuid, _>(tenant.as_uuid())
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .optional()?;
    Ok(burst.map(|burst| Occasion {
        kind: NotificationKind::ConnectionRejected,
        key: burst.started.timestamp().to_string(),
        data: json!({
            "since": burst.started,
            "requests": burst.requests,
            "user_agent": burst.user_agent,
        }),
    }))
}

#[derive(QueryableByName)]
struct Deprovisioned {
    #[diesel(sql_type = BigInt)]
    deactivated: i64,
    #[diesel(sql_type = BigInt)]
    deleted: i64,
}

/// More deactivations and deletions in the last hour than the threshold: one per run of
/// deprovisionings.
fn deprovisioning_spike(
    conn: &mut PgConnection,
    tenant: TenantId,
    threshold: SpikeThreshold,
    now: DateTime<Utc>,
) -> Result<Option<Occasion>> {
    let counts: Deprovisioned = diesel::sql_query(
        "SELECT count(*) FILTER (WHERE operation = 'deactivate') AS deactivated, \
           count(*) FILTER (WHERE operation = 'delete' AND resource_type = 'User') AS deleted \
         FROM provisioning_events WHERE tenant_id = $1 AND occurred_at > $2 - interval '1 hour' \
           AND operation IN ('deactivate', 'delete') AND status < 400",
    )
    .bind::<Uuid, _>(tenant.as_uuid())
    .bind::<Timestamptz, _>(now)
    .get_result(conn)?;
    let total = counts.deactivated + counts.deleted;
    // The tenant's own number, else a share of the users active before the spike (those still
    // active and those it took), never below the floor: at or under the floor there is no
    // spike, and the users (a large tenant's whole table) need not be counted every minute.
    let own = own_spike_threshold(conn, tenant)?;
    if total <= own.map_or(threshold.floor, i64::from) {
        return Ok(None);
    }
    let active: i64 = crate::schema::users::table
        .filter(crate::schema::users::tenant_id.eq(tenant))
        .filter(crate::schema::users::active.eq(true))
        .count()
        .get_result(conn)?;
    let limit = match own {
        Some(users) => i64::from(users),
        None => threshold.limit(active + total),
    };
    if total <= limit {
        return Ok(None);
    }
    // The spike's key is when its run of deprovisionings began (the first after an hour without
    // any): the same while it goes on, whatever the clock says, so it is told once.
    #[derive(QueryableByName)]
    struct Run {
        #[diesel(sql_type = diesel::sql_types::Nullable<Timestamptz>)]
        started: Option<DateTime<Utc>>,
    }
    let run: Run = diesel::sql_query(
        "SELECT max(occurred_at) AS started FROM (SELECT occurred_at, \
           lag(occurred_at) OVER (ORDER BY occurred_at) AS previous FROM provisioning_events \
           WHERE tenant_id = $1 AND occurred_at > $2 - interval '25 hours' AND status < 400 \
             AND (operation = 'deactivate' OR (operation = 'delete' AND resource_type = 'User'))) runs \
         WHERE previous IS NULL OR occurred_at - previous >= interval '1 hour'",
    )
    .bind::<Uuid, _>(tenant.as_uuid())
    .bind::<Timestamptz, _>(now)
    .get_result(conn)?;
    let started = run.started.unwrap_or(now - Duration::hours(25));
    Ok(Some(Occasion {
        kind: NotificationKind::DeprovisioningSpike,
        key: started.timestamp_micros().to_string(),
        data: json!({
            "deactivated": counts.deactivated,
            "deleted": counts.deleted,
            "active_before": active + total,
            "threshold": limit,
            "within": "1 hour",
            "since": started,
        }),
    }))
}

/// Records `occasion` for the tenant unless it was already, and queues its deliveries: one
/// e-mail per admin when `email` is on, one per enabled endpoint (`endpoints_too`; the
/// notice that an endpoint was disabled goes by e-mail only). `None` when it was recorded
/// before, by this server or another.
pub fn record(
    conn: &mut PgConnection,
    tenant: TenantId,
    occasion: &Occasion,
    email: bool,
    now: DateTime<Utc>,
) -> Result<Option<Decided>> {
    crate::db::transaction(conn, |conn| {
        let id = NotificationId::new_random();
        let inserted = diesel::insert_into(notifications::table)
            .values((
                notifications::tenant_id.eq(tenant),
                notifications::id.eq(id),
                notifications::kind.eq(occasion.kind),
                notifications::occasion.eq(&occasion.key),
                notifications::data.eq(&occasion.data),
                notifications::created_at.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        if inserted == 0 {
            return Ok(None);
        }
        let mut deliveries = Vec::new();
        if email {
            deliveries.extend(
                recipients(conn, tenant)?
                    .into_iter()
                    .map(|address| (NotificationChannel::Email, None, Some(address))),
            );
        }
        if occasion.kind != NotificationKind::EndpointDisabled {
            let endpoints: Vec<crate::ids::EndpointId> = notification_endpoints::table
                .filter(notification_endpoints::tenant_id.eq(tenant))
                .filter(notification_endpoints::enabled.eq(true))
                .select(notification_endpoints::id)
                .load(conn)?;
            deliveries.extend(
                endpoints
                    .into_iter()
                    .map(|endpoint| (NotificationChannel::Webhook, Some(endpoint), None)),
            );
        }
        let rows: Vec<_> = deliveries
            .iter()
            .map(|(channel, endpoint, recipient)| {
                (
                    notification_deliveries::tenant_id.eq(tenant),
                    notification_deliveries::id.eq(DeliveryId::new_random()),
                    notification_deliveries::notification_id.eq(id),
                    notification_deliveries::channel.eq(*channel),
                    notification_deliveries::endpoint_id.eq(*endpoint),
                    notification_deliveries::recipient.eq(recipient.clone()),
                    notification_deliveries::next_attempt_at.eq(now),
                    notification_deliveries::created_at.eq(now),
                )
            })
            .collect();
        if !rows.is_empty() {
            diesel::insert_into(notification_deliveries::table)
                .values(&rows)
                .execute(conn)?;
        }
        Ok(Some(Decided {
            tenant,
            id,
            kind: occasion.kind,
            deliveries: rows.len(),
        }))
    })
}

/// The most users a tenant allows: a larger number is surely a mistake.
pub const MAX_SPIKE_USERS: i32 = 1_000_000;

/// The tenant's own deprovisioning-spike threshold, if it chose one.
pub fn own_spike_threshold(conn: &mut PgConnection, tenant: TenantId) -> Result<Option<i32>> {
    use crate::schema::tenants;
    Ok(tenants::table
        .find(tenant)
        .select(tenants::deprovisioning_alert_users)
        .first(conn)?)
}

/// Sets the tenant's deprovisioning-spike threshold (`None`: the default).
pub fn set_own_spike_threshold(
    conn: &mut PgConnection,
    tenant: TenantId,
    users: Option<i32>,
) -> Result<()> {
    use crate::schema::tenants;
    if let Some(users) = users
        && !(1..=MAX_SPIKE_USERS).contains(&users)
    {
        return Err(crate::error::Error::Invalid(format!(
            "Choose a number of users from 1 to {MAX_SPIKE_USERS}, or leave it empty for the default."
        )));
    }
    diesel::update(tenants::table.find(tenant))
        .set(tenants::deprovisioning_alert_users.eq(users))
        .execute(conn)?;
    Ok(())
}

/// The addresses e-mail notifications go to: every console admin of the tenant, oldest first.
pub fn recipients(conn: &mut PgConnection, tenant: TenantId) -> Result<Vec<String>> {
    Ok(admins::table
        .filter(admins::tenant_id.eq(tenant))
        .order((admins::created_at.asc(), admins::id.asc()))
        .select(admins::email)
        .load(conn)?)
}

/// A test notification, on demand: every admin and every enabled endpoint.
pub fn test_occasion(now: DateTime<Utc>) -> Occasion {
    Occasion {
        kind: NotificationKind::Test,
        key: NotificationId::new_random().to_string(),
        data: json!({"requested_at": now}),
    }
}

/// Decides and records every occasion of `tenant` now.
pub fn notice(
    conn: &mut PgConnection,
    tenant: TenantId,
    spike: SpikeThreshold,
    email: bool,
    now: DateTime<Utc>,
) -> Result<Vec<Decided>> {
    let mut decided = Vec::new();
    for occasion in detect(conn, tenant, spike, now)? {
        // A spike is also the circuit breaker's trip (opened once per run).
        if occasion.kind == NotificationKind::DeprovisioningSpike {
            crate::safety::breaker::open_for_spike(conn, tenant, &occasion.data, now)?;
        }
        decided.extend(record(conn, tenant, &occasion, email, now)?);
    }
    Ok(decided)
}

/// The tenants notifications are decided for (SCIM on), for the background pass.
pub fn tenants_to_watch(conn: &mut PgConnection) -> Result<Vec<TenantId>> {
    Ok(crate::schema::tenants::table
        .filter(crate::schema::tenants::scim_enabled.eq(true))
        .select(crate::schema::tenants::id)
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::SpikeThreshold;

    #[test]
    fn the_spike_threshold_is_the_larger_of_a_tenth_and_fifty() {
        let threshold = SpikeThreshold::default();
        assert_eq!(threshold.limit(0), 50);
        assert_eq!(threshold.limit(340), 50);
        assert_eq!(threshold.limit(1_000), 100);
        assert_eq!(threshold.limit(1_001), 101);
    }
}
