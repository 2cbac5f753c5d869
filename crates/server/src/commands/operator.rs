//! Operator commands: migrations, tenants and tokens. They work whether or not a server is
//! running on the same data folder: the embedded cluster is attached to or started for the
//! command and stopped again only if the command started it.

use anyhow::{Context as _, anyhow};
use chrono::Utc;
use serde_json::json;
use tenancy::tenants::{self, NewTenant, OpenIdSettings, TenantRow};
use tenancy::{CrossTenant, Db, TenantId, bootstrap, health, scim_tokens};

use crate::cli::{TenantCommand, TokenCommand};
use crate::database::Database;
use crate::settings::Settings;

/// `insights migrate`.
pub async fn migrate(settings: Settings) -> anyhow::Result<()> {
    let database = Database::open(&settings).await?;
    println!("The database schema is up to date.");
    database.close(false).await;
    Ok(())
}

/// `insights tenant ...`.
pub async fn tenant(settings: Settings, command: TenantCommand) -> anyhow::Result<()> {
    let config = settings.clone();
    with_database(&config, |db| async move {
        match command {
            TenantCommand::Create {
                name,
                admin_email,
                scim,
                openid_issuer,
                openid_client_id,
                openid_client_secret,
                json,
            } => {
                let openid = match (openid_issuer, openid_client_id, openid_client_secret) {
                    (Some(issuer), Some(client_id), Some(client_secret)) => Some(OpenIdSettings {
                        issuer,
                        client_id,
                        client_secret,
                    }),
                    _ => None,
                };
                create_tenant(
                    &db,
                    &settings,
                    NewTenant {
                        name,
                        scim_enabled: scim,
                        openid,
                    },
                    admin_email,
                    json,
                )
                .await
            }
            TenantCommand::List { json } => list_tenants(&db, json).await,
            TenantCommand::Reseal => reseal(&db, &settings).await,
            TenantCommand::EnableScim { tenant } => set_scim(&db, &tenant, true).await,
            TenantCommand::DisableScim { tenant } => set_scim(&db, &tenant, false).await,
            TenantCommand::Status { tenant, json } => status(&db, &tenant, json).await,
        }
    })
    .await
}

/// `insights token ...`.
pub async fn token(settings: Settings, command: TokenCommand) -> anyhow::Result<()> {
    let deployment = settings.deployment(None);
    with_database(&settings, |db| async move {
        let TokenCommand::Generate { tenant, json } = command;
        let tenant = parse_tenant(&tenant)?;
        let overlap = deployment.token_overlap;
        let issued = db
            .run(tenant, move |conn| scim_tokens::issue(conn, tenant, Utc::now(), overlap))
            .await
            .map_err(|e| explain(e, tenant))?;
        let tenant_url = deployment.tenant_url(tenant);
        if json {
            println!("{}", json!({ "tenant_url": tenant_url, "token": issued.token, "expires_at": issued.record.expires_at }));
        } else {
            println!("Tenant URL: {tenant_url}");
            println!("Token:      {}", issued.token);
            println!("Expires:    {}", issued.record.expires_at.format("%Y-%m-%d %H:%M UTC"));
            if issued.record.replaces_id.is_some() {
                println!(
                    "The previous token keeps working until the identity provider first uses this one, or for {} days.",
                    overlap.num_days()
                );
            }
        }
        Ok(())
    })
    .await
}

async fn create_tenant(
    db: &Db,
    settings: &Settings,
    new: NewTenant,
    admin_email: Option<String>,
    json: bool,
) -> anyhow::Result<()> {
    let keys = settings.secret_keys()?;
    let (tenant, admin) = db
        .run_across_tenants(CrossTenant::Operator, move |conn| {
            bootstrap::create_tenant_with_admin(conn, &new, admin_email.as_deref(), &keys)
        })
        .await
        .map_err(|e| match e {
            tenancy::Error::Invalid(message) => anyhow!(message),
            other => anyhow!(other),
        })?;
    let (admin_email, admin_password) = match &admin {
        Some((row, password)) => (Some(row.email.clone()), Some(password.clone())),
        None => (None, None),
    };
    if json {
        println!(
            "{}",
            json!({ "tenant_id": tenant.id, "admin_email": admin_email, "admin_password": admin_password })
        );
    } else {
        println!("Created tenant {:?}", tenant.name);
        println!("  tenant id:          {}", tenant.id);
        println!(
            "  SCIM:               {}",
            if tenant.scim_enabled {
                "enabled"
            } else {
                "disabled"
            }
        );
        println!("  sign-in:            {}", tenant.auth_type);
        if let (Some(email), Some(password)) = (admin_email, admin_password) {
            println!("  admin email:        {email}");
            println!("  one-time password:  {password}  (must be changed at first sign-in)");
        }
        if tenant.scim_enabled && !tenant.scim_usable() {
            println!("Note: SCIM needs OpenID sign-in; configure it before generating a token.");
        }
    }
    Ok(())
}

/// `insights tenant reseal`: seals every client secret and TOTP secret with the current key.
async fn reseal(db: &Db, settings: &Settings) -> anyhow::Result<()> {
    let keys = settings.secret_keys()?;
    let (secrets, totp) = db
        .run_across_tenants(CrossTenant::Operator, move |conn| {
            Ok::<_, tenancy::Error>((
                tenants::reseal_client_secrets(conn, &keys)?,
                tenancy::admins::mfa::reseal_totp_secrets(conn, &keys)?,
            ))
        })
        .await?;
    println!(
        "Sealed {secrets} OpenID client secret(s) and {totp} TOTP secret(s) with the current key."
    );
    Ok(())
}

/// `insights secret-key`: prints a new random key for INSIGHTS_SECRET_KEY.
pub fn secret_key() {
    println!("{}", tenancy::sealed::SecretKeys::generate_hex());
}

async fn list_tenants(db: &Db, json: bool) -> anyhow::Result<()> {
    let rows = db
        .run_across_tenants(CrossTenant::Operator, tenants::list)
        .await?;
    if json {
        let list: Vec<_> = rows.iter().map(tenant_json).collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    if rows.is_empty() {
        println!("No tenants yet. Create one with `insights tenant create --name NAME`.");
        return Ok(());
    }
    println!(
        "{:<36}  {:<8}  {:<8}  {:<10}  NAME",
        "ID", "SCIM", "SIGN-IN", "CREATED"
    );
    for row in &rows {
        println!(
            "{:<36}  {:<8}  {:<8}  {:<10}  {}",
            row.id,
            if row.scim_enabled { "enabled" } else { "off" },
            row.auth_type,
            row.created_at.format("%Y-%m-%d"),
            row.name
        );
    }
    Ok(())
}

fn tenant_json(row: &TenantRow) -> serde_json::Value {
    json!({
        "id": row.id,
        "name": row.name,
        "scim_enabled": row.scim_enabled,
        "auth_type": row.auth_type.as_str(),
        "oidc_issuer": row.oidc_issuer,
        "created_at": row.created_at,
    })
}

async fn set_scim(db: &Db, tenant: &str, enabled: bool) -> anyhow::Result<()> {
    let tenant = parse_tenant(tenant)?;
    let row = db
        .run_across_tenants(CrossTenant::Operator, move |conn| {
            tenants::set_scim_enabled(conn, tenant, enabled)
        })
        .await
        .map_err(|e| explain(e, tenant))?;
    let state = if enabled { "enabled" } else { "disabled" };
    println!(
        "SCIM provisioning is now {state} for {:?} ({}).",
        row.name, row.id
    );
    if enabled && !row.scim_usable() {
        println!("Note: SCIM needs OpenID sign-in; configure it before generating a token.");
    }
    Ok(())
}

async fn status(db: &Db, tenant: &str, json: bool) -> anyhow::Result<()> {
    let tenant = parse_tenant(tenant)?;
    let health = db
        .run(tenant, move |conn| health::load(conn, tenant, Utc::now()))
        .await
        .map_err(|e| explain(e, tenant))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&health)?);
    } else {
        let level = serde_json::to_value(health.level)?;
        println!("{}: {}", level.as_str().unwrap_or_default(), health.message);
        if let Some(action) = &health.action {
            println!("{action}");
        }
    }
    Ok(())
}

pub(super) async fn with_database<F, Fut>(settings: &Settings, work: F) -> anyhow::Result<()>
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let database = Database::open(settings).await?;
    let result = work(database.db.clone()).await;
    database.close(false).await;
    result
}

pub(super) fn parse_tenant(value: &str) -> anyhow::Result<TenantId> {
    value
        .trim()
        .parse()
        .with_context(|| format!("{value:?} is not a tenant id (see `insights tenant list`)"))
}

pub(super) fn explain(error: tenancy::Error, tenant: TenantId) -> anyhow::Error {
    match error {
        tenancy::Error::NotFound => {
            anyhow!("there is no tenant {tenant} (see `insights tenant list`)")
        }
        tenancy::Error::Invalid(message) => anyhow!(message),
        other => anyhow!(other),
    }
}
