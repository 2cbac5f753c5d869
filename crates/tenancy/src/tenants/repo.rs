//! Reading and writing tenant rows.

use chrono::Utc;
use diesel::prelude::*;

use super::model::{AuthType, NewTenant, OpenIdSettings, TenantInsert, TenantRow};
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::schema::tenants;

/// Creates a tenant after checking its name and OpenID settings.
pub fn create(conn: &mut PgConnection, new: &NewTenant) -> Result<TenantRow> {
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
    let row = TenantInsert {
        id: TenantId::new_random(),
        name,
        scim_enabled: new.scim_enabled,
        auth_type: auth_type.as_str(),
        oidc_issuer: new.openid.as_ref().map(|o| o.issuer.as_str()),
        oidc_client_id: new.openid.as_ref().map(|o| o.client_id.as_str()),
        oidc_client_secret: new.openid.as_ref().map(|o| o.client_secret.as_str()),
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

/// Every tenant, oldest first.
pub fn list(conn: &mut PgConnection) -> Result<Vec<TenantRow>> {
    Ok(tenants::table
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
    Ok(diesel::update(tenants::table.find(tenant))
        .set((
            tenants::scim_enabled.eq(enabled),
            tenants::updated_at.eq(Utc::now()),
        ))
        .returning(TenantRow::as_returning())
        .get_result(conn)?)
}

/// Makes OpenID the tenant's sign-in type with these settings.
pub fn set_openid(
    conn: &mut PgConnection,
    tenant: TenantId,
    openid: &OpenIdSettings,
) -> Result<TenantRow> {
    check_openid(openid)?;
    Ok(diesel::update(tenants::table.find(tenant))
        .set((
            tenants::auth_type.eq(AuthType::OpenId.as_str()),
            tenants::oidc_issuer.eq(&openid.issuer),
            tenants::oidc_client_id.eq(&openid.client_id),
            tenants::oidc_client_secret.eq(&openid.client_secret),
            tenants::updated_at.eq(Utc::now()),
        ))
        .returning(TenantRow::as_returning())
        .get_result(conn)?)
}

/// Makes password the tenant's sign-in type; the OpenID settings are kept for a later switch back.
pub fn set_password_sign_in(conn: &mut PgConnection, tenant: TenantId) -> Result<TenantRow> {
    Ok(diesel::update(tenants::table.find(tenant))
        .set((
            tenants::auth_type.eq(AuthType::Password.as_str()),
            tenants::updated_at.eq(Utc::now()),
        ))
        .returning(TenantRow::as_returning())
        .get_result(conn)?)
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
    Ok(())
}
