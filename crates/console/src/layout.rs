//! What every console page shows around its content: navigation, the organisation and admin,
//! the sign-out form's CSRF token, the expired-token banner and the flash message.

use tenancy::stored::AdminRole;

use crate::assets;
use crate::session::{Console, TokenAlert};

/// The page frame, embedded in every page template as `layout`.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The `<title>` (without the product name).
    pub title: String,
    /// Which navigation entry is current.
    pub section: &'static str,
    /// The organisation's name.
    pub tenant_name: String,
    /// The signed-in admin's email.
    pub admin_email: String,
    /// The session's CSRF token, for every form.
    pub csrf: String,
    /// When the SCIM token expired, if it has.
    pub token_expired: Option<String>,
    /// A one-shot message.
    pub flash: Option<String>,
    /// Stylesheet URL (content-hashed).
    pub css: &'static str,
    /// Script URL (content-hashed).
    pub js: &'static str,
    /// The admin's role in words.
    pub role: &'static str,
    /// Whether the admin may change things (Admin or Owner): a viewer is not shown forms.
    pub can_edit: bool,
    /// Whether the admin manages admins (Owner).
    pub is_owner: bool,
    /// Whether the admin signs in with a password (and so has two-step sign-in to manage).
    pub password_admin: bool,
}

impl Layout {
    /// The frame for `console`'s admin on a page of `section`.
    pub fn new(console: &Console, section: &'static str, title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            section,
            tenant_name: console.tenant.name.clone(),
            admin_email: console.admin.email.clone(),
            csrf: console.session.csrf_token.clone(),
            token_expired: console
                .token_alert
                .as_ref()
                .map(|TokenAlert::Expired(at)| date(*at)),
            flash: console.flash.clone(),
            css: assets::css_url(),
            js: assets::js_url(),
            role: console.admin.role.label(),
            can_edit: console.can(AdminRole::Admin),
            is_owner: console.can(AdminRole::Owner),
            password_admin: !console.admin.signs_in_with_provider(),
        }
    }
}

/// A date as the console shows it.
pub fn date(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y").to_string()
}

/// A time as the console shows it (UTC).
pub fn time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y %H:%M UTC").to_string()
}

/// A time to the second, as the activity log shows it (UTC).
pub fn time_seconds(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%b %-d, %Y %H:%M:%S UTC").to_string()
}

/// How long before `now` a moment was, in words ("just now", "4 min ago", "3 days ago").
pub fn ago(at: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> String {
    let seconds = (now - at).num_seconds();
    match seconds {
        s if s < 0 => "in the future".to_owned(),
        0..=9 => "just now".to_owned(),
        10..=59 => format!("{seconds} s ago"),
        60..=3_599 => format!("{} min ago", seconds / 60),
        3_600..=86_399 => format!("{} h ago", seconds / 3_600),
        86_400..=172_799 => "1 day ago".to_owned(),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone as _, Utc};

    use super::*;

    #[test]
    fn relative_times_read_naturally() {
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap();
        assert_eq!(ago(now, now), "just now");
        assert_eq!(ago(now - Duration::seconds(42), now), "42 s ago");
        assert_eq!(ago(now - Duration::minutes(4), now), "4 min ago");
        assert_eq!(ago(now - Duration::hours(5), now), "5 h ago");
        assert_eq!(ago(now - Duration::hours(30), now), "1 day ago");
        assert_eq!(ago(now - Duration::days(63), now), "63 days ago");
        assert_eq!(ago(now + Duration::minutes(1), now), "in the future");
        assert_eq!(time_seconds(now), "Dec 2, 2026 10:00:00 UTC");
    }
}
