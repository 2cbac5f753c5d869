//! Saving the sign-in settings in one unit of database work: password sign-in (confirmed when
//! it stops SCIM) or OpenID Connect with the typed issuer, client id and secret (the stored
//! secret kept when none was typed).

use chrono::Utc;
use serde_json::json;
use tenancy::Db;
use tenancy::audit::{self, Actor};
use tenancy::sealed::SecretKeys;
use tenancy::stored::AuditAction;
use tenancy::tenants::{self, AuthType, OpenIdSettings, TenantRow};

use crate::error::ConsoleError;

/// What the admin chose.
#[derive(Debug, Clone)]
pub enum Choice {
    /// Password sign-in; `confirmed` when they accepted that it stops SCIM.
    Password {
        /// The confirmation box was ticked.
        confirmed: bool,
    },
    /// OpenID Connect with these settings; an empty secret keeps the stored one.
    OpenId {
        /// Issuer URL.
        issuer: String,
        /// Client id.
        client_id: String,
        /// Client secret as typed.
        client_secret: String,
    },
}

/// What became of the save.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored.
    Saved,
    /// Switching to password sign-in would stop SCIM: ask first.
    NeedsConfirmation,
    /// Refused, with the reason in words.
    Refused(String),
}

/// Whether SCIM provisioning runs for the tenant now (it needs OpenID sign-in).
pub fn scim_active(tenant: &TenantRow) -> bool {
    tenant.scim_enabled && tenant.auth_type() == AuthType::OpenId
}

/// The client secret to use: the typed one, or the stored one opened.
pub fn secret_or_stored(
    tenant: &TenantRow,
    typed: &str,
    keys: &SecretKeys,
) -> Result<Option<String>, ConsoleError> {
    if !typed.is_empty() {
        return Ok(Some(typed.to_owned()));
    }
    tenant.client_secret(keys).map_err(|error| {
        tracing::error!(tenant_id = %tenant.id, %error, "cannot open the OpenID client secret");
        ConsoleError::Internal
    })
}

/// Saves `choice` for `tenant` in one `Db::run`.
pub async fn save(
    db: &Db,
    tenant: &TenantRow,
    choice: Choice,
    keys: std::sync::Arc<SecretKeys>,
    actor: Actor,
) -> Result<Outcome, ConsoleError> {
    let tenant_id = tenant.id;
    let before = json!({
        "sign_in": tenant.auth_type(),
        "issuer": tenant.oidc_issuer,
        "client_id": tenant.oidc_client_id,
    });
    let audited = move |conn: &mut tenancy::PgConnection, after: serde_json::Value| {
        audit::record(
            conn,
            tenant_id,
            &actor,
            AuditAction::SignInSettingsChanged,
            None,
            json!({ "before": before, "after": after }),
            Utc::now(),
        )
    };
    match choice {
        Choice::Password { confirmed } => {
            if scim_active(tenant) && !confirmed {
                return Ok(Outcome::NeedsConfirmation);
            }
            db.run(tenant_id, move |conn| {
                tenancy::transaction(conn, |conn| -> Result<(), tenancy::Error> {
                    tenants::set_password_sign_in(conn, tenant_id)?;
                    audited(conn, json!({ "sign_in": AuthType::Password }))
                })
            })
            .await?;
            Ok(Outcome::Saved)
        }
        Choice::OpenId {
            issuer,
            client_id,
            client_secret,
        } => {
            // The audit log says whether the secret changed, never what it is.
            let secret_changed = !client_secret.is_empty();
            let Some(client_secret) = secret_or_stored(tenant, &client_secret, &keys)? else {
                return Ok(Outcome::Refused(
                    "Enter the client secret from your OpenID provider.".into(),
                ));
            };
            let settings = OpenIdSettings {
                issuer: issuer.trim().to_owned(),
                client_id: client_id.trim().to_owned(),
                client_secret,
            };
            let stored = db
                .run(tenant_id, move |conn| {
                    tenancy::transaction(conn, |conn| -> Result<(), tenancy::Error> {
                        tenants::set_openid(conn, tenant_id, &settings, &keys)?;
                        audited(
                            conn,
                            json!({
                                "sign_in": AuthType::OpenId,
                                "issuer": settings.issuer,
                                "client_id": settings.client_id,
                                "client_secret": if secret_changed { "changed" } else { "unchanged" },
                            }),
                        )
                    })
                })
                .await;
            match stored {
                Ok(_) => Ok(Outcome::Saved),
                Err(tenancy::Error::Invalid(message)) => Ok(Outcome::Refused(message)),
                Err(other) => Err(other.into()),
            }
        }
    }
}
