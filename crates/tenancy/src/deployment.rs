//! Deployment facts that the SCIM API, the console and the operator commands all need, passed
//! down from the server's settings rather than read from globals.

use chrono::Duration;

use crate::ids::TenantId;

/// How this installation is reached and run.
#[derive(Debug, Clone)]
pub struct Deployment {
    /// Base URL that browsers and identity providers use, without a trailing slash
    /// (for example `https://insights.example.com`).
    pub public_url: String,
    /// How long a regenerated SCIM token's predecessor keeps working unless the new one is used.
    pub token_overlap: Duration,
}

impl Deployment {
    /// Builds the value, dropping any trailing slash from `public_url`.
    pub fn new(public_url: &str, token_overlap: Duration) -> Self {
        Self {
            public_url: public_url.trim_end_matches('/').to_owned(),
            token_overlap,
        }
    }

    /// The SCIM base URL of a tenant: what the admin pastes into Okta as the Tenant URL.
    pub fn tenant_url(&self, tenant: TenantId) -> String {
        format!("{}/scim/v2/{tenant}", self.public_url)
    }
}
