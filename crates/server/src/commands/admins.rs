//! `insights admin ...`: the operator's management of a tenant's console admins (break-glass
//! accounts, a lost owner), each change written to the tenant's audit log as the operator's.

use anyhow::anyhow;
use chrono::Utc;
use serde_json::json;
use tenancy::admins::{self, AdminRow};
use tenancy::audit::{self, Actor};
use tenancy::stored::{AdminRole, AuditAction};
use tenancy::{Db, TenantId};

use super::operator::{explain, parse_tenant, with_database};
use crate::cli::AdminCommand;
use crate::settings::Settings;

/// `insights admin ...`.
pub async fn admin(settings: Settings, command: AdminCommand) -> anyhow::Result<()> {
    with_database(&settings, |db| async move {
        match command {
            AdminCommand::Add {
                tenant,
                email,
                role,
                json,
            } => add(&db, parse_tenant(&tenant)?, email, parse_role(&role)?, json).await,
            AdminCommand::List { tenant, json } => list(&db, parse_tenant(&tenant)?, json).await,
            AdminCommand::Remove {
                tenant,
                email,
                json,
            } => remove(&db, parse_tenant(&tenant)?, &email, json).await,
            AdminCommand::SetRole {
                tenant,
                email,
                role,
                json,
            } => {
                set_role(
                    &db,
                    parse_tenant(&tenant)?,
                    &email,
                    parse_role(&role)?,
                    json,
                )
                .await
            }
            AdminCommand::ResetMfa {
                tenant,
                email,
                json,
            } => reset_mfa(&db, parse_tenant(&tenant)?, &email, json).await,
        }
    })
    .await
}

fn parse_role(text: &str) -> anyhow::Result<AdminRole> {
    AdminRole::parse(&text.trim().to_lowercase())
        .ok_or_else(|| anyhow!("{text:?} is not a role: owner, admin or viewer"))
}

fn described(admin: &AdminRow) -> serde_json::Value {
    json!({
        "id": admin.id,
        "email": admin.email,
        "role": admin.role,
        "must_change_password": admin.must_change_password,
        "identity_provider": admin.signs_in_with_provider(),
        "two_step_sign_in": admin.has_mfa(),
        "created_at": admin.created_at,
    })
}

async fn add(
    db: &Db,
    tenant: TenantId,
    email: String,
    role: AdminRole,
    json: bool,
) -> anyhow::Result<()> {
    let (admin, password) = db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| {
                let (admin, password) =
                    admins::create_with_one_time_password_as(conn, tenant, &email, role)?;
                audit::record(
                    conn,
                    tenant,
                    &Actor::operator(),
                    AuditAction::AdminAdded,
                    Some(&admin.email),
                    json!({ "role": role }),
                    Utc::now(),
                )?;
                Ok::<_, tenancy::Error>((admin, password))
            })
        })
        .await
        .map_err(|e| explain(e, tenant))?;
    if json {
        let mut shown = described(&admin);
        shown["one_time_password"] = json!(password);
        println!("{shown}");
    } else {
        println!("Added {} as {}.", admin.email, admin.role.label());
        println!("One-time password (shown once; it must be changed at first sign-in): {password}");
    }
    Ok(())
}

async fn list(db: &Db, tenant: TenantId, json: bool) -> anyhow::Result<()> {
    let rows = db
        .run(tenant, move |conn| {
            tenancy::tenants::find(conn, tenant)?;
            admins::list(conn, tenant)
        })
        .await
        .map_err(|e| explain(e, tenant))?;
    if json {
        let shown: Vec<_> = rows.iter().map(described).collect();
        println!("{}", serde_json::Value::Array(shown));
    } else {
        for admin in &rows {
            println!(
                "{}  {:<6}  {}{}",
                admin.id,
                admin.role.label(),
                admin.email,
                if admin.must_change_password {
                    "  (one-time password not changed yet)"
                } else {
                    ""
                }
            );
        }
    }
    Ok(())
}

/// The admin of `tenant` with this e-mail address: the password admin when the same person
/// also signs in through the identity provider.
fn by_email(
    conn: &mut tenancy::PgConnection,
    tenant: TenantId,
    email: &str,
) -> Result<AdminRow, tenancy::Error> {
    admins::list(conn, tenant)?
        .into_iter()
        .filter(|admin| admin.email.eq_ignore_ascii_case(email.trim()))
        .min_by_key(AdminRow::signs_in_with_provider)
        .ok_or_else(|| tenancy::Error::Invalid(format!("{email} is not an admin of this tenant")))
}

async fn remove(db: &Db, tenant: TenantId, email: &str, json: bool) -> anyhow::Result<()> {
    let email = email.to_owned();
    let removed = db
        .run(tenant, move |conn| {
            let admin = by_email(conn, tenant, &email)?;
            admins::remove(conn, tenant, admin.id, &Actor::operator(), Utc::now())
        })
        .await
        .map_err(|e| explain(e, tenant))?;
    if json {
        println!("{}", described(&removed));
    } else {
        println!("Removed {}; their sessions have ended.", removed.email);
    }
    Ok(())
}

async fn set_role(
    db: &Db,
    tenant: TenantId,
    email: &str,
    role: AdminRole,
    json: bool,
) -> anyhow::Result<()> {
    let email = email.to_owned();
    let changed = db
        .run(tenant, move |conn| {
            let admin = by_email(conn, tenant, &email)?;
            admins::set_role(conn, tenant, admin.id, role, &Actor::operator(), Utc::now())
        })
        .await
        .map_err(|e| explain(e, tenant))?;
    if json {
        println!("{}", described(&changed));
    } else {
        println!("{} is now {}.", changed.email, changed.role.label());
    }
    Ok(())
}

async fn reset_mfa(db: &Db, tenant: TenantId, email: &str, json: bool) -> anyhow::Result<()> {
    let email = email.to_owned();
    let reset = db
        .run(tenant, move |conn| {
            let admin = by_email(conn, tenant, &email)?;
            admins::mfa::disable(conn, tenant, admin.id, &Actor::operator(), Utc::now())?;
            admins::find(conn, tenant, admin.id)
        })
        .await
        .map_err(|e| explain(e, tenant))?;
    if json {
        println!("{}", described(&reset));
    } else {
        println!(
            "Two-step sign-in of {} is off; they can set it up again.",
            reset.email
        );
    }
    Ok(())
}
