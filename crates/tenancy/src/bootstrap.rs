//! Onboarding: a tenant created together with its first admin, and the demo tenant created on
//! the first start of an empty installation.

use diesel::prelude::*;

use crate::admins::{self, AdminRow};
use crate::error::Result;
use crate::schema::tenants as tenants_table;
use crate::sealed::SecretKeys;
use crate::tenants::{self, NewTenant, TenantRow};

/// The demo admin's sign-in email.
pub const DEMO_ADMIN_EMAIL: &str = "admin@demo.example";

/// What was created, with the admin's one-time password (shown once).
#[derive(Clone)]
pub struct DemoTenant {
    /// The demo tenant.
    pub tenant: TenantRow,
    /// Its admin.
    pub admin: AdminRow,
    /// The admin's one-time password, to be changed at first sign-in.
    pub one_time_password: String,
}

impl std::fmt::Debug for DemoTenant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoTenant")
            .field("tenant", &self.tenant)
            .field("admin", &self.admin)
            .finish_non_exhaustive()
    }
}

/// Creates the demo tenant (SCIM enabled, password sign-in until OpenID is configured) and its
/// admin when there are no tenants at all. Replicas starting together create it only once: the
/// table lock makes the emptiness check and the insert one step.
pub fn create_demo_if_empty(
    conn: &mut PgConnection,
    keys: &SecretKeys,
) -> Result<Option<DemoTenant>> {
    crate::transaction(conn, |conn| {
        diesel::sql_query("LOCK TABLE tenants IN SHARE ROW EXCLUSIVE MODE").execute(conn)?;
        let existing: i64 = tenants_table::table.count().get_result(conn)?;
        if existing > 0 {
            return Ok(None);
        }
        let demo = NewTenant {
            name: "Demo".into(),
            scim_enabled: true,
            openid: None,
        };
        let (tenant, admin) = create_tenant_with_admin(conn, &demo, Some(DEMO_ADMIN_EMAIL), keys)?;
        Ok(admin.map(|(admin, one_time_password)| DemoTenant {
            tenant,
            admin,
            one_time_password,
        }))
    })
}

/// Creates a tenant and, when an email is given, its first admin with a one-time password; both
/// or neither.
pub fn create_tenant_with_admin(
    conn: &mut PgConnection,
    new: &NewTenant,
    admin_email: Option<&str>,
    keys: &SecretKeys,
) -> Result<(TenantRow, Option<(AdminRow, String)>)> {
    crate::transaction(conn, |conn| {
        let tenant = tenants::create(conn, new, keys)?;
        let admin = match admin_email {
            Some(email) => Some(admins::create_with_one_time_password(
                conn, tenant.id, email,
            )?),
            None => None,
        };
        Ok((tenant, admin))
    })
}
