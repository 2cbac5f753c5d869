//! The database work of the two-step sign-in page, one unit per request: the secret is opened
//! and every typed code checked inside the unit that acts on it, so that a code is accepted
//! once (its time step is recorded) and only with its action.

use std::sync::Arc;

use chrono::Utc;
use tenancy::admins::{self, mfa};
use tenancy::sealed::SecretKeys;
use tenancy::{Db, PgConnection};

use crate::error::ConsoleError;
use crate::session::Console;

/// Where the admin's two-step sign-in stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// On, with this many unused recovery codes.
    On { codes_left: i64 },
    /// Off (enrolment may have been started, not confirmed).
    Off,
}

/// The admin's standing.
pub async fn standing(db: &Db, console: &Console) -> Result<Standing, ConsoleError> {
    if !console.admin.has_mfa() {
        return Ok(Standing::Off);
    }
    let (tenant, admin) = (console.tenant.id, console.admin.id);
    let codes_left = db
        .run(tenant, move |conn| {
            mfa::recovery_codes_left(conn, tenant, admin)
        })
        .await?;
    Ok(Standing::On { codes_left })
}

/// A new secret for the admin to scan; nothing changes at sign-in until a code confirms it.
pub async fn begin(
    db: &Db,
    keys: Arc<SecretKeys>,
    console: &Console,
) -> Result<String, ConsoleError> {
    let (tenant, admin) = (console.tenant.id, console.admin.id);
    Ok(db
        .run(tenant, move |conn| {
            mfa::begin_enrolment(conn, tenant, admin, &keys, Utc::now())
        })
        .await?)
}

/// What a typed code led to.
#[derive(Debug)]
pub enum Confirmed {
    /// Right: the action was done (with recovery codes to show, when it made new ones).
    Done(Vec<String>),
    /// Wrong, used already, or no secret to check it against.
    WrongCode,
}

/// The time step `code` matches in the admin's secret now, if any (not yet accepted: the
/// caller accepts it, once, with its action).
fn typed_step(
    conn: &mut PgConnection,
    console_admin: (tenancy::TenantId, tenancy::AdminId),
    keys: &SecretKeys,
    code: &str,
) -> Result<Option<i64>, tenancy::Error> {
    let (tenant, admin) = console_admin;
    let row = admins::find(conn, tenant, admin)?;
    let Some(step) = mfa::secret_of(&row, keys)?
        .and_then(|secret| mfa::matching_step(&secret, code, Utc::now()))
    else {
        return Ok(None);
    };
    Ok(Some(step))
}

/// Turns two-step sign-in on with a code from the new secret; the recovery codes to show.
pub async fn confirm(
    db: &Db,
    keys: Arc<SecretKeys>,
    console: &Console,
    code: String,
) -> Result<Confirmed, ConsoleError> {
    let ids = (console.tenant.id, console.admin.id);
    let actor = console.actor();
    Ok(db
        .run(ids.0, move |conn| {
            let Some(step) = typed_step(conn, ids, &keys, &code)? else {
                return Ok(Confirmed::WrongCode);
            };
            match mfa::enable(conn, ids.0, ids.1, step, &actor, Utc::now()) {
                Ok(codes) => Ok(Confirmed::Done(codes)),
                Err(tenancy::Error::Invalid(_)) => Ok(Confirmed::WrongCode),
                Err(other) => Err(other),
            }
        })
        .await?)
}

/// What a code-guarded change of an enrolled admin does.
#[derive(Debug, Clone, Copy)]
pub enum Change {
    /// New recovery codes.
    RenewCodes,
    /// Two-step sign-in off.
    TurnOff,
}

/// Does `change` when `code` is the admin's current code (accepted once).
pub async fn change(
    db: &Db,
    keys: Arc<SecretKeys>,
    console: &Console,
    code: String,
    change: Change,
) -> Result<Confirmed, ConsoleError> {
    let ids = (console.tenant.id, console.admin.id);
    let actor = console.actor();
    Ok(db
        .run(ids.0, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<Confirmed, tenancy::Error> {
                let accepted = match typed_step(conn, ids, &keys, &code)? {
                    Some(step) => mfa::accept_step(conn, ids.0, ids.1, step)?,
                    None => false,
                };
                if !accepted {
                    return Ok(Confirmed::WrongCode);
                }
                let now = Utc::now();
                Ok(Confirmed::Done(match change {
                    Change::RenewCodes => {
                        mfa::renew_recovery_codes(conn, ids.0, ids.1, &actor, now)?
                    }
                    Change::TurnOff => {
                        mfa::disable(conn, ids.0, ids.1, &actor, now)?;
                        Vec::new()
                    }
                }))
            })
        })
        .await?)
}
