//! The token status component shared by User and Group Sync and Direct > Settings: the
//! connection-health line at the top of both pages (see [`tenancy::health`]; a token pasted
//! wrongly shows there instead of looking like silence), the Tenant URL, the current token's
//! dates and last use, previous tokens during an overlap, counts, the last error from the
//! identity provider, and the warnings the health line leaves out.

use chrono::{DateTime, Duration, Utc};
use tenancy::directory::{Condition, groups, users};
use tenancy::health::{self, Health, Level, State};
use tenancy::hints;
use tenancy::rejections;
use tenancy::scim_tokens::{self, RevokedReason, ScimTokenRow, TokenState};
use tenancy::stored::RejectionReason;
use tenancy::{PgConnection, TenantId, events};

use crate::layout::{date, time};

use tenancy::health::EXPIRY_WARNING;

/// One token as shown.
#[derive(Debug, Clone)]
pub struct TokenView {
    /// Record id (for Revoke).
    pub id: String,
    /// Last four characters.
    pub last4: String,
    /// Issue date.
    pub created: String,
    /// Expiry date.
    pub expires: String,
    /// "in 364 days", "expired".
    pub days_left_text: String,
    /// Last IdP access, or "never".
    pub last_used: String,
    /// What the token can do now, in words.
    pub state: String,
    /// CSS class of the state pill.
    pub pill: &'static str,
    /// Whether Revoke now applies.
    pub can_revoke: bool,
}

/// The whole component.
#[derive(Debug, Clone)]
pub struct TokenStatus {
    /// The Tenant URL.
    pub tenant_url: String,
    /// The newest token unless revoked.
    pub current: Option<TokenView>,
    /// Older tokens still accepted, or retired by the new one.
    pub previous: Vec<TokenView>,
    /// Provisioned users.
    pub users: i64,
    /// Provisioned groups.
    pub groups: i64,
    /// The last failed request: (event id, time, error).
    pub last_error: Option<(i64, String, String)>,
    /// (level class, message): `amber` or `danger`.
    pub warnings: Vec<(&'static str, String)>,
    /// Whether the identity provider has authenticated with a token of the tenant.
    pub connected: bool,
    /// Whether any request of the identity provider was recorded.
    pub any_request: bool,
    /// The connection-health line shown at the top of the page.
    pub health: HealthLine,
    /// Configuration hints from the last 7 days (shown on User and Group Sync).
    pub hints: Vec<HintLine>,
}

/// A configuration hint as shown.
#[derive(Debug, Clone)]
pub struct HintLine {
    /// What was seen.
    pub message: String,
    /// What to change in the identity provider.
    pub fix: &'static str,
    /// The requests behind it, in the Activity log.
    pub link: String,
    /// When the last of them arrived.
    pub last: String,
}

/// The connection-health line: the state in words, its colour, what to do, and a link to the
/// requests behind it.
#[derive(Debug, Clone)]
pub struct HealthLine {
    /// `green`, `amber` or `red` (the CSS class).
    pub level: &'static str,
    /// The state in plain words.
    pub message: String,
    /// What to do, if anything.
    pub action: Option<String>,
    /// (link, text): today's failures, or the refused requests.
    pub link: Option<(String, &'static str)>,
}

impl HealthLine {
    fn of(health: Health, now: DateTime<Utc>) -> Self {
        let today = health::start_of_day(now).timestamp();
        let link = match health.state {
            State::Rejected => Some((
                "/console/activity?operation=rejected&range=1h".to_owned(),
                "See the refused requests",
            )),
            State::Paused => Some((
                "/console/secure/advanced/user-group-sync/safety".to_owned(),
                "Provisioning safety",
            )),
            State::Connected | State::TokenExpiring if health.failed_today > 0 => Some((
                format!(
                    "/console/activity?status=failed&from={today}&to={}",
                    today + 86_400
                ),
                "See today's failures",
            )),
            _ => None,
        };
        Self {
            level: match health.level {
                Level::Green => "green",
                Level::Amber => "amber",
                Level::Red => "red",
            },
            message: health.message,
            action: health.action,
            link,
        }
    }
}

impl TokenStatus {
    /// Whether a current token exists (the button says Regenerate).
    pub fn has_current(&self) -> bool {
        self.current.is_some()
    }
}

/// Loads the component for a tenant.
pub fn load(
    conn: &mut PgConnection,
    tenant: TenantId,
    tenant_url: String,
    now: DateTime<Utc>,
) -> Result<TokenStatus, tenancy::Error> {
    let tokens = scim_tokens::list(conn, tenant, 10)?;
    let user_count = users::count(conn, tenant, &Condition::always())?;
    let group_count = groups::count(conn, tenant, &Condition::always())?;
    let last_error = events::last_error(conn, tenant)?.map(|e| {
        (
            e.id,
            time(e.occurred_at),
            e.error.unwrap_or_else(|| format!("HTTP {}", e.status)),
        )
    });
    let mut iter = tokens.iter();
    let newest = iter.next();
    let current = newest
        .filter(|t| t.revoked_at.is_none())
        .map(|t| view(t, now));
    let previous: Vec<TokenView> = iter
        .filter(|t| match t.state(now) {
            TokenState::Overlap { .. } => true,
            // A token retired, revoked or stopped in the last month is worth showing: after
            // Revoke now the admin sees the token's new state rather than it vanishing.
            TokenState::Revoked { at, .. } | TokenState::OverlapEnded { at } => {
                now - at < Duration::days(30)
            }
            _ => false,
        })
        .map(|t| view(t, now))
        .collect();
    let health = health::load(conn, tenant, now)?;
    let mut warnings = Vec::new();
    // The health line states the worst thing; a token about to expire behind a worse state
    // (refused requests, silence) is still worth a line of its own.
    if let Some(token) = newest.filter(|t| t.revoked_at.is_none())
        && !matches!(
            health.state,
            State::TokenExpired | State::TokenExpiring | State::NoToken
        )
        && token.expires_at > now
        && token.expires_at - now <= EXPIRY_WARNING
    {
        warnings.push((
            "amber",
            format!("The token expires on {} ({}). Regenerate it and update your identity provider before then.", date(token.expires_at), days_left(token.expires_at, now)),
        ));
    }
    // The health line names the most recent reason; any other reason of the hour is listed too.
    if health.state == State::Rejected {
        for rejected in rejections::since(conn, tenant, now - health::REJECTED_WINDOW)?
            .iter()
            .skip(1)
        {
            let (what, fix) = health::rejection_words(rejected.reason);
            warnings.push((
                "danger",
                format!(
                    "Also rejected: {} request{} in the last hour {what} (last at {} from {}). {fix}",
                    rejected.requests,
                    if rejected.requests == 1 { "" } else { "s" },
                    time(rejected.last_at),
                    rejected.last_address,
                ),
            ));
        }
    }
    Ok(TokenStatus {
        tenant_url,
        current,
        previous,
        users: user_count,
        groups: group_count,
        last_error,
        warnings,
        connected: tokens.iter().any(|t| t.first_used_at.is_some()),
        health: HealthLine::of(health, now),
        hints: hints::hints(conn, tenant, now)?
            .into_iter()
            .map(|hint| HintLine {
                message: hint.message,
                fix: hint.fix,
                link: format!("/console/activity?{}", hint.filter),
                last: time(hint.last_at),
            })
            .collect(),
        any_request: events::any(conn, tenant)?,
    })
}

/// A refusal's reason as the Activity log lists it.
pub fn reason_words(reason: RejectionReason) -> &'static str {
    match reason {
        RejectionReason::MissingToken => "No bearer token",
        RejectionReason::UnknownToken => "Unknown token",
        RejectionReason::RevokedToken => "Revoked or replaced token",
        RejectionReason::ExpiredToken => "Expired token",
        RejectionReason::ScimDisabled => "SCIM switched off",
        RejectionReason::SignInNotOpenId => "Sign-in type is not OpenID",
        RejectionReason::Throttled => "Throttled after failed attempts",
    }
}

fn view(token: &ScimTokenRow, now: DateTime<Utc>) -> TokenView {
    let (state, pill, can_revoke) = match token.state(now) {
        TokenState::Active => ("Active".to_owned(), "green", false),
        TokenState::Overlap { until } => (
            format!(
                "Still valid until {} (or until Okta first uses the new token)",
                time(until)
            ),
            "amber",
            true,
        ),
        TokenState::Revoked {
            reason: RevokedReason::Replaced,
            at,
        } => (
            format!("Retired when Okta first used the new token at {}", time(at)),
            "grey",
            false,
        ),
        TokenState::Revoked {
            reason: RevokedReason::Revoked,
            at,
        } => (format!("Revoked at {}", time(at)), "grey", false),
        TokenState::OverlapEnded { at } => (
            format!("Stopped working at {} (overlap ended)", time(at)),
            "grey",
            false,
        ),
        TokenState::Expired { at } => (format!("Expired on {}", date(at)), "red", false),
    };
    TokenView {
        id: token.id.to_string(),
        last4: token.last4.clone(),
        created: time(token.created_at),
        expires: date(token.expires_at),
        days_left_text: days_left(token.expires_at, now),
        last_used: token.last_used_at.map_or_else(|| "never".to_owned(), time),
        state,
        pill,
        can_revoke,
    }
}

fn days_left(expires: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = (expires - now).num_days();
    match days {
        d if expires <= now => format!("expired {} days ago", -d),
        0 => "expires today".to_owned(),
        1 => "1 day left".to_owned(),
        d => format!("{d} days left"),
    }
}
