//! The database work of the OpenID callback, in two units around the call to the provider
//! (which must not hold a pooled connection): the tenant with the pending sign-in its `state`
//! names (taken, so it cannot be used twice), then the provisioned user the identity matches
//! with a new session when they may sign in.

use chrono::Utc;
use tenancy::directory::users::UserRow;
use tenancy::sessions::{self, Principal};
use tenancy::sign_in::{self, Matched, PendingLogin};
use tenancy::tenants::{self, TenantRow};
use tenancy::{Db, TenantId};

use crate::error::ConsoleError;

/// The tenant of a callback and its pending sign-in (`None` when the state is unknown, used,
/// expired or started for the other callback: `for_console` says which this is); `None` when
/// no tenant has this id.
pub async fn take_pending(
    db: &Db,
    raw_tenant: &str,
    state: Option<String>,
    for_console: bool,
) -> Result<Option<(TenantRow, Option<PendingLogin>)>, ConsoleError> {
    let Ok(id) = raw_tenant.parse::<TenantId>() else {
        return Ok(None);
    };
    let found = db
        .run(id, move |conn| {
            let tenant = tenants::find(conn, id)?;
            let pending = match state {
                Some(state) => sign_in::take(conn, id, &state, for_console, Utc::now())?,
                None => None,
            };
            Ok::<_, tenancy::Error>((tenant, pending))
        })
        .await;
    match found {
        Ok(found) => Ok(Some(found)),
        Err(tenancy::Error::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What the verified identity leads to.
#[derive(Debug)]
pub enum SignedIn {
    /// An active provisioned user, with the new session's cookie value.
    Session(UserRow, String),
    /// A provisioned user who is deactivated.
    Deactivated(UserRow),
    /// No provisioned user matches.
    NotProvisioned,
}

/// Matches the identity to a provisioned user and, when they are active, opens their session,
/// in one unit of work.
pub async fn sign_in(
    db: &Db,
    tenant: TenantId,
    subject: String,
    names: Vec<String>,
) -> Result<SignedIn, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| {
            Ok::<_, tenancy::Error>(match sign_in::match_user(conn, tenant, &subject, &names)? {
                Matched::Active(user) => {
                    let (cookie, _) =
                        sessions::create(conn, tenant, Principal::User(user.id), Utc::now())?;
                    SignedIn::Session(user, cookie)
                }
                Matched::Deactivated(user) => SignedIn::Deactivated(user),
                Matched::NotProvisioned => SignedIn::NotProvisioned,
            })
        })
        .await?)
}
