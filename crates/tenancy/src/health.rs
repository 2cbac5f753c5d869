//! A tenant's connection health: one state in plain words (green, amber or red) computed from
//! its tokens, the requests recorded today and the requests refused in the last hour. The
//! console shows it at the top of User and Group Sync and Direct > Settings; the operator reads
//! the same as JSON (`insights tenant status`). [`assess`] is a pure function of the facts and
//! the clock, so every state can be tested at any time.

use chrono::{DateTime, Duration, DurationRound as _, Utc};
use diesel::PgConnection;
use serde::Serialize;

use crate::error::Result;
use crate::events::{self, Bucketing};
use crate::ids::TenantId;
use crate::rejections::{self, RejectedSummary};
use crate::scim_tokens::{self, ScimTokenRow, TokenState};
use crate::stored::{AuthType, RejectionReason};
use crate::tenants;

/// Warn this long before a token expires.
pub const EXPIRY_WARNING: Duration = Duration::days(30);
/// Call a connection silent after this long without a request.
pub const SILENCE: Duration = Duration::days(7);
/// Refused requests this recent make the connection red.
pub const REJECTED_WINDOW: Duration = Duration::hours(1);

/// How the connection is, from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Working.
    Green,
    /// Needs attention soon, or is not set up yet.
    Amber,
    /// Provisioning is failing now.
    Red,
}

/// Which state the connection is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// The operator has not switched SCIM on.
    ScimOff,
    /// SCIM needs OpenID sign-in, and the tenant uses passwords.
    SignInNotOpenId,
    /// An admin paused provisioning.
    Paused,
    /// No token has been generated (or the last was revoked).
    NoToken,
    /// The current token has expired.
    TokenExpired,
    /// Requests were refused in the last hour.
    Rejected,
    /// A token exists but no request ever arrived.
    Waiting,
    /// No request for [`SILENCE`] or longer.
    Silent,
    /// Requests arrive; the token expires within [`EXPIRY_WARNING`].
    TokenExpiring,
    /// Requests arrive.
    Connected,
}

/// The facts the state is computed from.
#[derive(Debug, Clone)]
pub struct Facts {
    /// SCIM switched on by the operator.
    pub scim_enabled: bool,
    /// The tenant's sign-in type.
    pub auth_type: AuthType,
    /// The tenant's tokens, newest first.
    pub tokens: Vec<ScimTokenRow>,
    /// Requests recorded since midnight UTC.
    pub requests_today: i64,
    /// Of those, failed ones.
    pub failed_today: i64,
    /// Requests refused in the last hour, by reason, the most recent first.
    pub rejected: Vec<RejectedSummary>,
    /// Since when, and by whom, provisioning is paused.
    pub paused: Option<(DateTime<Utc>, String)>,
}

/// The assessment.
#[derive(Debug, Clone, Serialize)]
pub struct Health {
    /// The state.
    pub state: State,
    /// Its colour.
    pub level: Level,
    /// One line in plain words.
    pub message: String,
    /// What to do, when something is to be done.
    pub action: Option<String>,
    /// The identity provider's last accepted request.
    pub last_request_at: Option<DateTime<Utc>>,
    /// Requests since midnight UTC.
    pub requests_today: i64,
    /// Failed requests since midnight UTC.
    pub failed_today: i64,
    /// Requests refused in the last hour.
    pub rejected_last_hour: i64,
    /// When the current token expires.
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// Gathers the facts for `tenant` (a handful of indexed reads) and assesses them.
pub fn load(conn: &mut PgConnection, tenant: TenantId, now: DateTime<Utc>) -> Result<Health> {
    let row = tenants::find(conn, tenant)?;
    let today = start_of_day(now);
    let counted = events::buckets(conn, tenant, Bucketing::Hour, today)?;
    Ok(assess(
        &Facts {
            scim_enabled: row.scim_enabled,
            auth_type: row.auth_type,
            tokens: scim_tokens::list(conn, tenant, 10)?,
            requests_today: counted.iter().map(|b| b.1).sum(),
            failed_today: counted.iter().map(|b| b.2).sum(),
            rejected: rejections::since(conn, tenant, now - REJECTED_WINDOW)?,
            paused: row
                .provisioning_paused_at
                .map(|at| (at, row.provisioning_paused_by.clone().unwrap_or_default())),
        },
        now,
    ))
}

/// Midnight UTC of `now`'s day.
pub fn start_of_day(now: DateTime<Utc>) -> DateTime<Utc> {
    now.duration_trunc(Duration::days(1)).unwrap_or(now)
}

/// The state the facts put the connection in at `now`.
pub fn assess(facts: &Facts, now: DateTime<Utc>) -> Health {
    let current = facts.tokens.first().filter(|t| t.revoked_at.is_none());
    let last_request_at = facts.tokens.iter().filter_map(|t| t.last_used_at).max();
    let rejected_last_hour = facts.rejected.iter().map(|r| r.requests).sum();
    let health = |state, level, message: String, action: Option<String>| Health {
        state,
        level,
        message,
        action,
        last_request_at,
        requests_today: facts.requests_today,
        failed_today: facts.failed_today,
        rejected_last_hour,
        token_expires_at: current.map(|t| t.expires_at),
    };
    if !facts.scim_enabled {
        return health(
            State::ScimOff,
            Level::Amber,
            "SCIM provisioning is not switched on for this organisation.".into(),
            Some("Ask Insights support to switch it on.".into()),
        );
    }
    if facts.auth_type != AuthType::OpenId {
        return health(
            State::SignInNotOpenId,
            Level::Red,
            "Provisioning is refused: the sign-in type is not OpenID Connect.".into(),
            Some("Switch the sign-in type to OpenID Connect in Sign-in settings.".into()),
        );
    }
    if let Some((since, by)) = &facts.paused {
        return health(
            State::Paused,
            Level::Amber,
            format!(
                "Provisioning is paused since {} by {by}: your identity provider's requests are answered “retry later”, and it sends them again once you resume.",
                since.format("%b %-d, %H:%M UTC")
            ),
            Some("Resume provisioning when you are ready.".into()),
        );
    }
    if let Some(TokenState::Expired { at }) = current.map(|t| t.state(now)) {
        return health(
            State::TokenExpired,
            Level::Red,
            format!(
                "Provisioning has stopped: the token expired on {}.",
                at.format("%b %-d, %Y")
            ),
            Some("Regenerate the token and paste it into your identity provider.".into()),
        );
    }
    if let Some(latest) = facts.rejected.first() {
        let (what, fix) = rejection_words(latest.reason);
        let agent = latest
            .last_user_agent
            .as_deref()
            .filter(|agent| !agent.is_empty())
            .map(|agent| format!(", user agent {agent}"))
            .unwrap_or_default();
        return health(
            State::Rejected,
            Level::Red,
            format!(
                "Rejected: {} request{} in the last hour {what} (last at {} from {}{agent}).",
                latest.requests,
                if latest.requests == 1 { "" } else { "s" },
                latest.last_at.format("%H:%M UTC"),
                latest.last_address,
            ),
            Some(if current.is_some() {
                fix.into()
            } else {
                "Generate a token and paste it into your identity provider.".into()
            }),
        );
    }
    let Some(token) = current else {
        return health(
            State::NoToken,
            Level::Amber,
            "Not connected: there is no SCIM token.".into(),
            Some(
                "Generate a token and paste it, with the Tenant URL, into your identity provider."
                    .into(),
            ),
        );
    };
    let Some(last) = last_request_at else {
        return health(
            State::Waiting,
            Level::Amber,
            "Waiting for the first request from your identity provider.".into(),
            Some("Paste the Tenant URL and the token into your identity provider and test the connection there.".into()),
        );
    };
    if now - last >= SILENCE {
        return health(
            State::Silent,
            Level::Amber,
            format!("No request for {} days.", (now - last).num_days()),
            Some("Check that provisioning is still switched on in your identity provider (Okta: Provisioning > To App; Entra ID: Provisioning status On).".into()),
        );
    }
    let connected = format!(
        "Connected: last request {} · {} request{} today, {} failed",
        ago(last, now),
        facts.requests_today,
        if facts.requests_today == 1 { "" } else { "s" },
        facts.failed_today,
    );
    if token.expires_at - now <= EXPIRY_WARNING {
        let days = (token.expires_at - now).num_days();
        return health(
            State::TokenExpiring,
            Level::Amber,
            format!(
                "{connected} · the token expires on {} ({}).",
                token.expires_at.format("%b %-d, %Y"),
                match days {
                    0 => "today".to_owned(),
                    1 => "in 1 day".to_owned(),
                    d => format!("in {d} days"),
                }
            ),
            Some("Regenerate the token and update your identity provider before then.".into()),
        );
    }
    health(
        State::Connected,
        Level::Green,
        format!("{connected}."),
        None,
    )
}

/// What a refusal means and what to do about it, in the identity provider's words.
pub fn rejection_words(reason: RejectionReason) -> (&'static str, &'static str) {
    match reason {
        RejectionReason::MissingToken => (
            "had no bearer token",
            "Set the authentication mode to an OAuth bearer token and paste the current token.",
        ),
        RejectionReason::UnknownToken => (
            "used a token that is not this organisation's",
            "Paste the current token into your identity provider (Okta: OAuth Bearer Token; Entra ID: Secret Token).",
        ),
        RejectionReason::RevokedToken => (
            "used a revoked or replaced token",
            "Paste the current token into your identity provider (Okta: OAuth Bearer Token; Entra ID: Secret Token).",
        ),
        RejectionReason::ExpiredToken => (
            "used an expired token",
            "Regenerate the token and paste it into your identity provider.",
        ),
        RejectionReason::ScimDisabled => (
            "arrived while SCIM is switched off for this organisation",
            "Ask Insights support to switch SCIM on, or turn provisioning off in your identity provider.",
        ),
        RejectionReason::SignInNotOpenId => (
            "arrived while the sign-in type is not OpenID",
            "Switch the sign-in type to OpenID Connect in Sign-in settings.",
        ),
        RejectionReason::Throttled => (
            "were refused after too many failed attempts in a row",
            "Correct the token in your identity provider; requests are accepted again once it is right.",
        ),
    }
}

/// "just now", "2 minutes ago", "5 hours ago", "3 days ago".
fn ago(at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let plural = |n: i64, unit: &str| format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" });
    match (now - at).num_seconds() {
        s if s < 60 => "just now".to_owned(),
        s if s < 3_600 => plural(s / 60, "minute"),
        s if s < 86_400 => plural(s / 3_600, "hour"),
        s => plural(s / 86_400, "day"),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;
    use crate::ids::TokenId;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 19, 42, 0).unwrap()
    }

    fn token(created: DateTime<Utc>, last_used: Option<DateTime<Utc>>) -> ScimTokenRow {
        ScimTokenRow {
            tenant_id: TenantId::from(uuid::Uuid::nil()),
            id: TokenId::from(uuid::Uuid::nil()),
            token_hash: Vec::new(),
            last4: "abcd".into(),
            created_at: created,
            expires_at: created + Duration::days(365),
            replaces_id: None,
            retire_after: None,
            revoked_at: None,
            revoked_reason: None,
            first_used_at: last_used,
            last_used_at: last_used,
            request_id: None,
            purpose: crate::stored::TokenPurpose::IdentityProvider,
        }
    }

    fn facts(tokens: Vec<ScimTokenRow>) -> Facts {
        Facts {
            scim_enabled: true,
            auth_type: AuthType::OpenId,
            tokens,
            requests_today: 764,
            failed_today: 11,
            rejected: Vec::new(),
            paused: None,
        }
    }

    #[test]
    fn a_used_token_is_connected_with_todays_counts() {
        let used = now() - Duration::minutes(2);
        let health = assess(
            &facts(vec![token(now() - Duration::days(10), Some(used))]),
            now(),
        );
        assert_eq!(
            (health.state, health.level),
            (State::Connected, Level::Green)
        );
        assert_eq!(
            health.message,
            "Connected: last request 2 minutes ago · 764 requests today, 11 failed."
        );
        assert_eq!(health.last_request_at, Some(used));
        assert_eq!(health.action, None);
    }

    #[test]
    fn a_new_token_waits_for_the_first_request() {
        let health = assess(&facts(vec![token(now() - Duration::hours(1), None)]), now());
        assert_eq!((health.state, health.level), (State::Waiting, Level::Amber));
        assert_eq!(
            health.message,
            "Waiting for the first request from your identity provider."
        );
    }

    #[test]
    fn silence_expiry_and_refusals_are_told_in_order_of_harm() {
        let created = now() - Duration::days(100);
        let silent = assess(
            &facts(vec![token(created, Some(now() - Duration::days(63)))]),
            now(),
        );
        assert_eq!(
            (silent.state, silent.message.as_str()),
            (State::Silent, "No request for 63 days.")
        );

        let old = now() - Duration::days(350);
        let expiring = assess(
            &facts(vec![token(old, Some(now() - Duration::hours(3)))]),
            now(),
        );
        assert_eq!(
            (expiring.state, expiring.level),
            (State::TokenExpiring, Level::Amber)
        );
        assert!(
            expiring
                .message
                .contains("expires on Dec 17, 2026 (in 15 days)"),
            "{}",
            expiring.message
        );

        let gone = assess(
            &facts(vec![token(now() - Duration::days(400), Some(old))]),
            now(),
        );
        assert_eq!((gone.state, gone.level), (State::TokenExpired, Level::Red));

        let mut refused = facts(vec![token(created, Some(now() - Duration::minutes(5)))]);
        refused.rejected = vec![RejectedSummary {
            reason: RejectionReason::UnknownToken,
            requests: 12,
            last_at: Utc.with_ymd_and_hms(2026, 12, 2, 19, 40, 0).unwrap(),
            last_address: "203.0.113.9".into(),
            last_user_agent: Some("Okta SCIM Client 1.0.0".into()),
        }];
        let rejected = assess(&refused, now());
        assert_eq!(
            (rejected.state, rejected.level),
            (State::Rejected, Level::Red)
        );
        assert_eq!(
            rejected.message,
            "Rejected: 12 requests in the last hour used a token that is not this organisation's \
             (last at 19:40 UTC from 203.0.113.9, user agent Okta SCIM Client 1.0.0)."
        );
        assert_eq!(rejected.rejected_last_hour, 12);
        assert!(
            rejected
                .action
                .unwrap_or_default()
                .contains("Paste the current token")
        );
    }

    #[test]
    fn set_up_states_come_first() {
        let mut off = facts(Vec::new());
        off.scim_enabled = false;
        assert_eq!(assess(&off, now()).state, State::ScimOff);
        let mut password = facts(Vec::new());
        password.auth_type = AuthType::Password;
        assert_eq!(assess(&password, now()).state, State::SignInNotOpenId);
        assert_eq!(assess(&facts(Vec::new()), now()).state, State::NoToken);
        let mut revoked = token(now() - Duration::days(3), Some(now()));
        revoked.revoked_at = Some(now());
        assert_eq!(assess(&facts(vec![revoked]), now()).state, State::NoToken);
    }
}
