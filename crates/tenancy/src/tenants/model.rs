//! Tenant rows and the values written to them.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::ids::TenantId;
use crate::schema::tenants;
use crate::sealed::{SealError, SecretKeys};

/// What a sealed client secret is bound to: its column and its tenant.
pub(crate) fn client_secret_owner(tenant: TenantId) -> String {
    format!("tenants.oidc_client_secret:{tenant}")
}

pub use crate::stored::AuthType;

/// A tenant as stored.
#[derive(Clone, Queryable, Selectable)]
#[diesel(table_name = tenants, check_for_backend(diesel::pg::Pg))]
pub struct TenantRow {
    /// Stable id, used in the Tenant URL.
    pub id: TenantId,
    /// The organisation's display name.
    pub name: String,
    /// The operator's switch: SCIM is sold on request.
    pub scim_enabled: bool,
    /// How its users sign in.
    pub auth_type: AuthType,
    /// OpenID issuer URL, exactly as the provider spells it.
    pub oidc_issuer: Option<String>,
    /// OpenID client id registered at the provider.
    pub oidc_client_id: Option<String>,
    /// OpenID client secret, sealed (see [`TenantRow::client_secret`]); never shown back.
    pub oidc_client_secret: Option<String>,
    /// When the tenant was created.
    pub created_at: DateTime<Utc>,
    /// When its settings last changed.
    pub updated_at: DateTime<Utc>,
    /// Days its provisioning events are kept; `None`: the operator's default.
    pub event_retention_days: Option<i16>,
    /// Since when an admin has paused provisioning (SCIM answers 503 meanwhile).
    pub provisioning_paused_at: Option<DateTime<Utc>>,
    /// The admin who paused it.
    pub provisioning_paused_by: Option<String>,
    /// What the first match of a SCIM user to a user SCIM does not manage does.
    pub adoption: crate::stored::Adoption,
    /// Days a deleted user is kept for restoring; `None`: 30.
    pub deleted_user_retention_days: Option<i16>,
    /// For a shadow: the tenant whose shadow it is.
    pub shadow_of: Option<TenantId>,
    /// The tenant's shadow, while its SCIM requests are answered in shadow mode.
    pub shadow_tenant_id: Option<TenantId>,
    /// When the shadow started.
    pub shadow_started_at: Option<DateTime<Utc>>,
    /// Who started it.
    pub shadow_started_by: Option<String>,
    /// Whether admins may sign in to the console through the identity provider, with the
    /// role their groups grant.
    pub console_provider_sign_in: bool,
    /// Who may sign in to the console with a password.
    pub password_sign_in: crate::stored::PasswordSignIn,
    /// Whether password admins must use a second factor (TOTP).
    pub mfa_required: bool,
}

impl TenantRow {
    /// The tenant's sign-in type.
    pub fn auth_type(&self) -> AuthType {
        self.auth_type
    }

    /// Whether SCIM provisioning may be used: switched on by the operator *and* OpenID sign-in.
    pub fn scim_usable(&self) -> bool {
        self.scim_enabled && self.auth_type() == AuthType::OpenId
    }

    /// The OpenID client secret in clear, opened with `keys`. A value stored before
    /// encryption at rest is still read as it is (the server seals it at start).
    pub fn client_secret(&self, keys: &SecretKeys) -> Result<Option<String>, SealError> {
        match &self.oidc_client_secret {
            None => Ok(None),
            Some(stored) if !SecretKeys::is_sealed(stored) => Ok(Some(stored.clone())),
            Some(stored) => keys.open(&client_secret_owner(self.id), stored).map(Some),
        }
    }
}

impl std::fmt::Debug for TenantRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TenantRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("scim_enabled", &self.scim_enabled)
            .field("auth_type", &self.auth_type)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_id", &self.oidc_client_id)
            .field(
                "oidc_client_secret",
                &self.oidc_client_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

/// OpenID Connect settings for a tenant's sign-in.
#[derive(Clone, PartialEq, Eq)]
pub struct OpenIdSettings {
    /// Issuer URL (compared as an exact string by OpenID Connect).
    pub issuer: String,
    /// Client id.
    pub client_id: String,
    /// Client secret.
    pub client_secret: String,
}

impl std::fmt::Debug for OpenIdSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenIdSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// A tenant to create.
#[derive(Debug, Clone)]
pub struct NewTenant {
    /// The organisation's display name.
    pub name: String,
    /// Switch SCIM on from the start.
    pub scim_enabled: bool,
    /// OpenID sign-in settings; when given, the sign-in type is OpenID.
    pub openid: Option<OpenIdSettings>,
}

/// The insertable form of [`NewTenant`].
#[derive(Insertable)]
#[diesel(table_name = tenants)]
pub(crate) struct TenantInsert<'a> {
    pub id: TenantId,
    pub name: &'a str,
    pub scim_enabled: bool,
    pub auth_type: AuthType,
    pub oidc_issuer: Option<&'a str>,
    pub oidc_client_id: Option<&'a str>,
    pub oidc_client_secret: Option<String>,
}
