//! The admin console, route by route, through real HTTP against a real database: sign-in and
//! sessions, CSRF and origin checks, tenant isolation, the SCIM token lifecycle, users, groups
//! and cards, CSV import jobs and the provisioning activity log.

mod activity;
mod activity_log;
pub(crate) mod admins;
mod auth;
mod connection_test;
mod csrf;
mod directory;
mod import;
mod mfa;
mod notifications;
mod read_replica;
mod safety;
mod tokens;

/// Every console page reached with GET, with placeholders `{user}`, `{group}`, `{job}`,
/// `{event}` for ids.
pub const GET_PAGES: &[&str] = &[
    "/console/password",
    "/console/secure/advanced/user-group-sync",
    "/console/secure/advanced/user-group-sync/safety",
    "/console/direct/settings",
    "/console/users",
    "/console/users/{user}",
    "/console/groups",
    "/console/groups/{group}",
    "/console/import",
    "/console/import/{job}",
    "/console/activity",
    "/console/activity/{event}",
    "/console/settings/sign-in",
    "/console/admins",
    "/console/audit",
    "/console/mfa",
];

/// Every console form action, with placeholders `{user}`, `{card}`, `{token}`, `{endpoint}`,
/// `{trip}`, `{admin}`, `{invitation}`, `{group}` for ids.
pub const POST_ACTIONS: &[&str] = &[
    "/console/logout",
    "/console/password",
    "/console/secure/advanced/user-group-sync/token",
    "/console/secure/advanced/user-group-sync/tokens/{token}/revoke",
    "/console/secure/advanced/user-group-sync/test",
    "/console/secure/advanced/user-group-sync/notifications/endpoints",
    "/console/secure/advanced/user-group-sync/notifications/endpoints/{endpoint}/disable",
    "/console/secure/advanced/user-group-sync/notifications/endpoints/{endpoint}/enable",
    "/console/secure/advanced/user-group-sync/notifications/endpoints/{endpoint}/remove",
    "/console/secure/advanced/user-group-sync/notifications/test",
    "/console/secure/advanced/user-group-sync/notifications/spike",
    "/console/secure/advanced/user-group-sync/safety/pause",
    "/console/secure/advanced/user-group-sync/safety/resume",
    "/console/secure/advanced/user-group-sync/safety/revoke-all",
    "/console/secure/advanced/user-group-sync/safety/adoption",
    "/console/secure/advanced/user-group-sync/safety/conflicts/{user}/link",
    "/console/secure/advanced/user-group-sync/safety/conflicts/{user}/separate",
    "/console/secure/advanced/user-group-sync/safety/deleted/{user}/restore",
    "/console/secure/advanced/user-group-sync/safety/trips/{trip}/undo",
    "/console/secure/advanced/user-group-sync/safety/trips/{trip}/acknowledge",
    "/console/secure/advanced/user-group-sync/shadow/start",
    "/console/secure/advanced/user-group-sync/shadow/go-live",
    "/console/secure/advanced/user-group-sync/shadow/discard",
    "/console/users/{user}/cards",
    "/console/users/{user}/cards/{card}/remove",
    "/console/import",
    "/console/settings/sign-in",
    "/console/settings/sign-in/test",
    "/console/direct/settings/retention",
    "/console/admins/invite",
    "/console/admins/{admin}/role",
    "/console/admins/{admin}/remove",
    "/console/admins/invitations/{invitation}/revoke",
    "/console/admins/{admin}/mfa/reset",
    "/console/admins/sign-in",
    "/console/admins/groups",
    "/console/admins/groups/{group}/remove",
    "/console/mfa/setup",
    "/console/mfa/confirm",
    "/console/mfa/recovery-codes",
    "/console/mfa/disable",
];
