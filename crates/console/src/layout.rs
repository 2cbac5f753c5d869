//! What every console page shows around its content: navigation, the organisation and admin,
//! the sign-out form's CSRF token, the expired-token banner and the flash message.

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
