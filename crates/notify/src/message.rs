//! What a notification says: an e-mail's subject, plain text and HTML (the tenant's name, what
//! happened, what to do, the console link), and a webhook's JSON body. Built from the stored
//! facts only, which hold no token or secret (a token is named by its last four characters).

use serde_json::{Value, json};
use tenancy::notifications::Due;
use tenancy::stored::NotificationKind;

/// The console page every message sends the admin to.
pub const CONSOLE_PATH: &str = "/console/secure/advanced/user-group-sync";

/// An e-mail, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The plain-text part.
    pub text: String,
    /// The HTML part.
    pub html: String,
}

fn field<'a>(data: &'a Value, name: &str) -> &'a Value {
    data.get(name).unwrap_or(&Value::Null)
}

fn text_of(data: &Value, name: &str) -> String {
    match field(data, name) {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A timestamp as "2026-12-02 19:40 UTC".
fn when(data: &Value, name: &str) -> String {
    let raw = text_of(data, name);
    chrono::DateTime::parse_from_rfc3339(&raw)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or(raw)
}

/// What happened and what to do, in plain words.
fn words(kind: NotificationKind, data: &Value) -> (String, String, String) {
    match kind {
        NotificationKind::TokenExpiring => (
            format!("The SCIM token expires in {} day(s)", text_of(data, "days")),
            format!(
                "The SCIM token ending in {} that your identity provider uses expires on {}. When it expires, provisioning stops: new employees get no access and leavers keep theirs.",
                text_of(data, "token_last4"),
                when(data, "expires_at")
            ),
            "Open User and Group Sync, press Regenerate Token, and paste the new token into your identity provider (Okta: the app's Provisioning > Integration; Entra ID: Provisioning > Admin Credentials). The old token keeps working until the new one is used.".to_owned(),
        ),
        NotificationKind::TokenExpired => (
            "The SCIM token has expired: provisioning has stopped".to_owned(),
            format!(
                "The SCIM token ending in {} expired on {}. Your identity provider's requests are refused from then on.",
                text_of(data, "token_last4"),
                when(data, "expired_at")
            ),
            "Open User and Group Sync, press Regenerate Token, and paste the new token into your identity provider.".to_owned(),
        ),
        NotificationKind::ConnectionRejected => (
            "Your identity provider's requests are being rejected".to_owned(),
            format!(
                "Since {}, {} request(s) used an unknown, revoked or expired token{}.",
                when(data, "since"),
                text_of(data, "requests"),
                match text_of(data, "user_agent") {
                    agent if agent.is_empty() => String::new(),
                    agent => format!(" (user agent {agent})"),
                }
            ),
            "Paste the current token into your identity provider, or regenerate it in User and Group Sync if it is lost.".to_owned(),
        ),
        NotificationKind::ConnectionSilent => (
            format!("No request from your identity provider for {} days", text_of(data, "days")),
            format!(
                "The last request from your identity provider arrived on {}. Changes made there since are not reaching Insights.",
                when(data, "last_request_at")
            ),
            "Check that provisioning is still switched on for the app in your identity provider and that its token is the current one; User and Group Sync can test the connection.".to_owned(),
        ),
        NotificationKind::DeprovisioningSpike => (
            "Many users were deactivated or deleted within an hour".to_owned(),
            format!(
                "Your identity provider deactivated {} and deleted {} of {} active users within an hour (the alert threshold is {}).",
                text_of(data, "deactivated"),
                text_of(data, "deleted"),
                text_of(data, "active_before"),
                text_of(data, "threshold")
            ),
            "If this was not intended, check the app's assignments and rules in your identity provider now; the Activity log lists every deactivation.".to_owned(),
        ),
        NotificationKind::Test => (
            "Test notification".to_owned(),
            "This is a test from Insights: notifications for this tenant reach you.".to_owned(),
            "Nothing to do.".to_owned(),
        ),
        NotificationKind::EndpointDisabled => (
            "A webhook endpoint was disabled".to_owned(),
            format!(
                "Every delivery to the webhook endpoint {} failed for three days, so it was disabled.",
                text_of(data, "url")
            ),
            "Fix the receiver, then enable the endpoint again in User and Group Sync > Notifications.".to_owned(),
        ),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The e-mail for `due`, linking to the console under `public_url`.
pub fn email(due: &Due, public_url: &str) -> Rendered {
    let (headline, what, todo) = words(due.kind, &due.data);
    let link = format!("{}{CONSOLE_PATH}", public_url.trim_end_matches('/'));
    let tenant = &due.tenant_name;
    Rendered {
        subject: format!("[Insights] {tenant}: {headline}"),
        text: format!(
            "{headline}\n\nTenant: {tenant}\n\n{what}\n\nWhat to do: {todo}\n\n{link}\n\n-- \nInsights sends this to the console admins of {tenant}.\n"
        ),
        html: format!(
            "<!doctype html><html lang=\"en\"><body style=\"font-family:sans-serif\">\
             <h1 style=\"font-size:1.2em\">{}</h1><p>Tenant: <strong>{}</strong></p><p>{}</p>\
             <p><strong>What to do:</strong> {}</p><p><a href=\"{}\">Open User and Group Sync</a></p>\
             <p style=\"color:#555\">Insights sends this to the console admins of {}.</p></body></html>",
            escape(&headline),
            escape(tenant),
            escape(&what),
            escape(&todo),
            escape(&link),
            escape(tenant)
        ),
    }
}

/// The webhook body for `due`: `type`, `timestamp` and `data` (the facts, the tenant, the
/// message in words and the console link).
pub fn webhook_body(due: &Due, public_url: &str) -> Value {
    let (headline, what, todo) = words(due.kind, &due.data);
    let mut data = match &due.data {
        Value::Object(map) => map.clone(),
        _ => serde_json::Map::new(),
    };
    data.insert("tenant_id".into(), json!(due.tenant_id));
    data.insert("tenant_name".into(), json!(due.tenant_name));
    data.insert("summary".into(), json!(headline));
    data.insert("message".into(), json!(what));
    data.insert("action".into(), json!(todo));
    data.insert(
        "console_url".into(),
        json!(format!(
            "{}{CONSOLE_PATH}",
            public_url.trim_end_matches('/')
        )),
    );
    json!({
        "type": due.kind.as_str(),
        "timestamp": due.decided_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": data,
    })
}

/// What an invitation e-mail says.
#[derive(Debug, Clone)]
pub struct InvitationMail<'a> {
    /// The organisation's name.
    pub organisation: &'a str,
    /// Who invited.
    pub invited_by: &'a str,
    /// The role, in words.
    pub role: &'a str,
    /// The link (it holds the invitation's secret).
    pub link: &'a str,
    /// When the link stops working, in words.
    pub expires: &'a str,
}

/// The e-mail that carries an invitation to become a console admin.
pub fn invitation(mail: &InvitationMail<'_>) -> Rendered {
    let InvitationMail {
        organisation,
        invited_by,
        role,
        link,
        expires,
    } = mail;
    Rendered {
        subject: format!("[Insights] You are invited to administer {organisation}"),
        text: format!(
            "{invited_by} invited you to the Insights console of {organisation} as {role}.\n\n\
             Accept the invitation and choose your password:\n{link}\n\n\
             The link works once, until {expires}. If you did not expect it, ignore this e-mail.\n"
        ),
        html: format!(
            "<p>{} invited you to the Insights console of <strong>{}</strong> as {}.</p>\
             <p><a href=\"{}\">Accept the invitation and choose your password</a></p>\
             <p>The link works once, until {}. If you did not expect it, ignore this e-mail.</p>",
            escape(invited_by),
            escape(organisation),
            escape(role),
            escape(link),
            escape(expires)
        ),
    }
}
