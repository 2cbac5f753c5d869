//! Reading and writing tenant rows.

use chrono::Utc;
use diesel::prelude::*;

use super::model::{
    AuthType, NewTenant, OpenIdSettings, TenantInsert, TenantRow, client_secret_owner,
};
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::schema::tenants;
use crate::sealed::SecretKeys;

/// Creates a tenant after checking its name and OpenID settings; the client secret is sealed
/// with `keys`.
pub fn create(conn: &mut PgConnection, new: &NewTenant, keys: &SecretKeys) -> Result<TenantRow> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(Error::Invalid("The tenant name must not be empty.".into()));
    }
    if let Some(openid) = &new.openid {
        check_openid(openid)?;
    }
    let auth_type = if new.openid.is_some() {
        AuthType::OpenId
    } else {
        AuthType::Password
    };
    let id = TenantId::new_random();
    let row = TenantInsert {
        id,
        name,
        scim_enabled: new.scim_enabled,
        auth_type,
        oidc_issuer: new.openid.as_ref().map(|o| o.issuer.as_str()),
        oidc_client_id: new.openid.as_ref().map(|o| o.client_id.as_str()),
        oidc_client_secret: new
            .openid
            .as_ref()
            .map(|o| keys.seal(&client_secret_owner(id), &o.client_secret)),
    };
    Ok(diesel::insert_into(tenants::table)
        .values(&row)
        .returning(TenantRow::as_returning())
        .get_result(conn)?)
}

/// The tenant with this id, or `NotFound`.
pub fn find(conn: &mut PgConnection, tenant: TenantId) -> Result<TenantRow> {
    Ok(tenants::table
        .find(tenant)
        .select(TenantRow::as_select())
        .first(conn)?)
}

/// The tenant with this id, locked until the end of the transaction, to serialise changes.
pub fn find_for_update(conn: &mut PgConnection, tenant: TenantId) -> Result<TenantRow> {
    Ok(tenants::table
        .find(tenant)
        .select(TenantRow::as_select())
        .for_update()
        .first(conn)?)
}

/// Deletes a tenant and everything it owns, in one transaction: the tables with a foreign key
/// to it by cascade, the activity log (which has none, so that events do not lock the tenant's
/// row) and its e-mail directory entries here. Whether there was such a tenant.
pub fn delete(conn: &mut PgConnection, tenant: TenantId) -> Result<bool> {
    use crate::schema::{admin_emails, provisioning_events};
    crate::db::transaction(conn, |conn| {
        diesel::delete(
            provisioning_events::table.filter(provisioning_events::tenant_id.eq(tenant)),
        )
        .execute(conn)?;
        diesel::delete(admin_emails::table.filter(admin_emails::tenant_id.eq(tenant)))
            .execute(conn)?;
        let deleted = diesel::delete(tenants::table.find(tenant)).execute(conn)?;
        crate::scim_tokens::announce(conn, tenant)?;
        Ok(deleted > 0)
    })
}

/// Every tenant, oldest first (not the shadows of tenants in shadow mode).
pub fn list(conn: &mut PgConnection) -> Result<Vec<TenantRow>> {
    Ok(tenants::table
        .filter(tenants::shadow_of.is_null())
        .order((tenants::created_at.asc(), tenants::id.asc()))
        .select(TenantRow::as_select())
        .load(conn)?)
}

/// Switches SCIM on or off for a tenant (the operator's switch).
pub fn set_scim_enabled(
    conn: &mut PgConnection,
    tenant: TenantId,
    enabled: bool,
) -> Result<TenantRow> {
    let row = diesel::update(tenants::table.find(tenant))
        .set((
            tenants::scim_enabled.eq(enabled),
            tenants::updated_at.eq(Utc::now()),
        ))
        .returning(TenantRow::as_returning())
        .get_result(conn)?;
    crate::scim_tokens::announce(conn, tenant)?;
    Ok(row)
}

/// Makes OpenID the tenant's sign-in type with these settings; the client secret is sealed
/// with `keys`.
pub fn set_openid(
    conn: &mut PgConnection,
    tenant: TenantId,
    openid: &OpenIdSettings,
    keys: &SecretKeys,
) -> Result<TenantRow> {
    check_openid(openid)?;
    let sealed = keys.seal(&client_secret_owner(tenant), &openid.client_secret);
    let row = diesel::update(tenants::table.find(tenant))
        .set((
            tenants::auth_type.eq(AuthType::OpenId),
            tenants::oidc_issuer.eq(&openid.issuer),
            tenants::oidc_client_id.eq(&openid.client_id),
            tenants::oidc_client_secret.eq(&sealed),
            tenants::updated_at.eq(Utc::now()),
        ))
        .returning(TenantRow::as_returning())
        .get_result(conn)?;
    crate::scim_tokens::announce(conn, tenant)?;
    Ok(row)
}

/// Seals again every client secret that is stored in clear (from before encryption at rest)
/// or with a previous key, so that old keys can be retired. Cross-tenant: run at start-up and
/// by the operator. Returns how many were sealed; a value no key opens is left as it is and
/// reported.
pub fn reseal_client_secrets(conn: &mut PgConnection, keys: &SecretKeys) -> Result<usize> {
    let stored: Vec<(TenantId, Option<String>)> = tenants::table
        .filter(tenants::oidc_client_secret.is_not_null())
        .select((tenants::id, tenants::oidc_client_secret))
        .load(conn)?;
    let mut sealed = 0;
    for (tenant, value) in stored {
        let Some(value) = value.filter(|v| keys.needs_resealing(v)) else {
            continue;
        };
        let owner = client_secret_owner(tenant);
        let clear = if SecretKeys::is_sealed(&value) {
            match keys.open(&owner, &value) {
                Ok(clear) => clear,
                Err(error) => {
                    tracing::error!(%tenant, %error, "an OpenID client secret cannot be opened; set the key that sealed it in INSIGHTS_PREVIOUS_SECRET_KEYS");
                    continue;
                }
            }
        } else {
            value
        };
        diesel::update(tenants::table.find(tenant))
            .set(tenants::oidc_client_secret.eq(keys.seal(&owner, &clear)))
            .execute(conn)?;
        sealed += 1;
    }
    Ok(sealed)
}

/// Sets how many days the tenant's provisioning events are kept (7 to 365), or `None` for the
/// operator's default.
pub fn set_event_retention(
    conn: &mut PgConnection,
    tenant: TenantId,
    days: Option<i16>,
) -> Result<TenantRow> {
    use crate::maintenance::retention::{MAX_RETENTION_DAYS, MIN_RETENTION_DAYS};
    if let Some(days) = days
        && !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days)
    {
        return Err(Error::Invalid(format!(
            "Choose from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS} days."
        )));
    }
    Ok(diesel::update(tenants::table.find(tenant))
        .set((
            tenants::event_retention_days.eq(days),
            tenants::updated_at.eq(Utc::now()),
        ))
        .returning(TenantRow::as_returning())
        .get_result(conn)?)
}

/// Makes password the tenant's sign-in type; the OpenID settings are kept for a later switch back.
pub fn set_password_sign_in(conn: &mut PgConnection, tenant: TenantId) -> Result<TenantRow> {
    let row = diesel::update(tenants::table.find(tenant))
        .set((
            tenants::auth_type.eq(AuthType::Password),
            tenants::updated_at.eq(Utc::now()),
        ))
        .returning(TenantRow::as_returning())
        .get_result(conn)?;
    crate::scim_tokens::announce(conn, tenant)?;
    Ok(row)
}

fn check_openid(openid: &OpenIdSettings) -> Result<()> {
    let issuer = openid.issuer.trim();
    if !(issuer.starts_with("https://") || issuer.starts_with("http://"))
        || issuer.contains(char::is_whitespace)
    {
        return Err(Error::Invalid(format!(
            "The OpenID issuer must be an http(s) URL, got {:?}.",
            openid.issuer
        )));
    }
    if openid.client_id.trim().is_empty() || openid.client_secret.is_empty() {
        return Err(Error::Invalid(
            "The OpenID client id and client secret must not be empty.".into(),
        ));
    }
    let fields = [
        ("issuer", openid.issuer.as_str()),
        ("client id", openid.client_id.as_str()),
        ("client secret", openid.client_secret.as_str()),
    ];
    for (name, value) in fields {
        if value.chars().any(char::is_control) {
            return Err(Error::Invalid(format!(
                "The OpenID {name} contains a control character; paste it again without it."
            )));
        }
        if value.len() > 2048 {
            return Err(Error::Invalid(format!(
                "The OpenID {name} is longer than 2048 bytes."
            )));
        }
    }
    Ok(())
}
