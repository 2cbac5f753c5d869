//! The token status component shared by User and Group Sync and Direct > Settings: the Tenant
//! URL, the current token's dates and last use, previous tokens during an overlap, counts, the
//! last error from the identity provider, and warnings, among them the requests refused in the
//! last hour (a token pasted wrongly shows here instead of looking like silence).

use chrono::{DateTime, Duration, Utc};
use tenancy::directory::{Condition, groups, users};
use tenancy::rejections::{self, RejectedSummary};
use tenancy::scim_tokens::{self, RevokedReason, ScimTokenRow, TokenState};
use tenancy::stored::RejectionReason;
use tenancy::{PgConnection, TenantId, events};

use crate::layout::{date, time};

/// Warn this long before a token expires.
pub const EXPIRY_WARNING: Duration = Duration::days(30);
/// Warn when the identity provider has not called for this long.
pub const SILENCE_WARNING: Duration = Duration::days(60);

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
    let mut warnings = Vec::new();
    if let Some(token) = newest.filter(|t| t.revoked_at.is_none()) {
        match token.state(now) {
            TokenState::Expired { at } => warnings.push((
                "danger",
                format!("The token expired on {}. Your identity provider can no longer provision users: regenerate the token and paste it into the identity provider.", date(at)),
            )),
            _ if token.expires_at - now <= EXPIRY_WARNING => warnings.push((
                "amber",
                format!("The token expires on {} ({}). Regenerate it and update your identity provider before then.", date(token.expires_at), days_left(token.expires_at, now)),
            )),
            _ => {}
        }
        let last_seen = token.last_used_at.unwrap_or(token.created_at);
        if now - last_seen >= SILENCE_WARNING {
            warnings.push((
                "amber",
                format!("Your identity provider has not called Insights for {} days. Check that provisioning is still switched on there.", (now - last_seen).num_days()),
            ));
        }
    }
    for rejected in rejections::since(conn, tenant, now - Duration::hours(1))? {
        warnings.push(("danger", rejected_sentence(&rejected)));
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
        any_request: events::any(conn, tenant)?,
    })
}

/// Refused requests of the last hour in plain words, with what to do about them.
fn rejected_sentence(rejected: &RejectedSummary) -> String {
    let (what, fix) = match rejected.reason {
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
    };
    let agent = rejected
        .last_user_agent
        .as_deref()
        .filter(|agent| !agent.is_empty())
        .map(|agent| format!(", user agent {agent}"))
        .unwrap_or_default();
    format!(
        "Rejected: {} request{} in the last hour {what} (last at {} from {}{agent}). {fix}",
        rejected.requests,
        if rejected.requests == 1 { "" } else { "s" },
        time(rejected.last_at),
        rejected.last_address,
    )
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
