//! What several storage tests arrange the same way.

use diesel::PgConnection;
use tenancy::tenants::{self, NewTenant};
use tenancy::{Error, TenantId};

/// A tenant with SCIM switched on and no OpenID settings.
pub fn tenant(conn: &mut PgConnection, name: &str) -> Result<TenantId, Error> {
    Ok(tenants::create(
        conn,
        &NewTenant {
            name: name.into(),
            scim_enabled: true,
            openid: None,
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    )?
    .id)
}
