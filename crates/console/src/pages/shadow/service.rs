//! Shadow go-live's units of work, each one transaction over the tenant and its shadow
//! (`CrossTenant::Shadow`): start, the review, Go live and Discard. No HTTP types.

use chrono::Utc;
use tenancy::audit::Actor;
use tenancy::safety::shadow::{self, Applied, Review};
use tenancy::{CrossTenant, Db, TenantId};

use crate::error::ConsoleError;

/// Changes listed at once (the rest through the search and the kind filter).
pub const LISTED: i64 = 200;

/// Starts shadow mode; the shadow's id.
pub async fn start(db: &Db, tenant: TenantId, actor: Actor) -> Result<TenantId, ConsoleError> {
    Ok(db
        .run_across_tenants(CrossTenant::Shadow, move |conn| {
            shadow::start(conn, tenant, &actor, Utc::now())
        })
        .await?)
}

/// The review, or `None` when the tenant is not in shadow mode.
pub async fn review(
    db: &Db,
    tenant: TenantId,
    search: Option<String>,
    kind: Option<String>,
) -> Result<Option<Review>, ConsoleError> {
    let review = db
        .run_across_tenants(CrossTenant::Shadow, move |conn| {
            shadow::review(conn, tenant, search.as_deref(), kind.as_deref(), LISTED)
        })
        .await;
    match review {
        Ok(review) => Ok(Some(review)),
        Err(tenancy::Error::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// Goes live: what was applied, or why nothing was (in plain words).
pub async fn go_live(
    db: &Db,
    tenant: TenantId,
    actor: Actor,
) -> Result<Result<Applied, String>, ConsoleError> {
    let applied = db
        .run_across_tenants(CrossTenant::Shadow, move |conn| {
            shadow::go_live(conn, tenant, &actor, Utc::now())
        })
        .await;
    match applied {
        Ok(applied) => Ok(Ok(applied)),
        Err(tenancy::Error::Invalid(message)) => Ok(Err(message)),
        Err(tenancy::Error::Conflict { .. }) => Ok(Err(
            "Nothing was applied: two users would have the same userName (renamed in the directory since shadow mode started). Rename one of them and go live again."
                .into(),
        )),
        Err(other) => Err(other.into()),
    }
}

/// Discards the shadow; whether there was one.
pub async fn discard(db: &Db, tenant: TenantId, actor: Actor) -> Result<bool, ConsoleError> {
    Ok(db
        .run_across_tenants(CrossTenant::Shadow, move |conn| {
            shadow::discard(conn, tenant, &actor, Utc::now())
        })
        .await?)
}
