//! The audit log: who did what in the console (or the operator's command line), when, from
//! where. Every entry is written by [`record`] on the connection of the action it describes,
//! inside that action's transaction: an action without its entry, or an entry without its
//! action, cannot be committed.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use serde_json::Value;

use crate::db::lower;
use crate::error::{Error, Result};
use crate::ids::{AdminId, AuditId, TenantId};
use crate::schema::audit_log;
use crate::stored::AuditAction;

/// Days the audit log is kept unless the operator sets `INSIGHTS_AUDIT_RETENTION_DAYS`.
pub const DEFAULT_AUDIT_RETENTION_DAYS: i16 = 365;
/// The longest user agent kept (they are not bounded by the protocol).
const MAX_USER_AGENT: usize = 400;

/// Who acted, and from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The admin, when a console admin acted.
    pub admin: Option<AdminId>,
    /// The admin's e-mail address, or `operator`.
    pub email: String,
    /// The client address the request was counted under.
    pub address: Option<String>,
    /// The browser's `User-Agent`.
    pub user_agent: Option<String>,
}

impl Actor {
    /// The operator, on the command line.
    pub fn operator() -> Self {
        Self {
            admin: None,
            email: "operator".into(),
            address: None,
            user_agent: None,
        }
    }

    /// The e-mail address (or `operator`), as the activity log and the safety records name who
    /// acted.
    pub fn name(&self) -> &str {
        &self.email
    }
}

/// One entry as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = audit_log, check_for_backend(diesel::pg::Pg))]
pub struct AuditRow {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The entry.
    pub id: AuditId,
    /// When.
    pub at: DateTime<Utc>,
    /// Who: an e-mail address or `operator`.
    pub actor: String,
    /// The admin who acted, while they exist.
    pub admin_id: Option<AdminId>,
    /// What.
    pub action: AuditAction,
    /// What it was done to (an admin's address, a token id, a card number…).
    pub target: Option<String>,
    /// What changed, secrets replaced by "changed".
    pub detail: Value,
    /// From where.
    pub client_addr: Option<String>,
    /// With which browser.
    pub user_agent: Option<String>,
}

/// Writes one entry, on the action's own connection (so in its transaction).
pub fn record(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: &Actor,
    action: AuditAction,
    target: Option<&str>,
    detail: Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let user_agent = actor
        .user_agent
        .as_deref()
        .map(|agent| agent.chars().take(MAX_USER_AGENT).collect::<String>());
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::tenant_id.eq(tenant),
            audit_log::id.eq(AuditId::new_random()),
            audit_log::at.eq(now),
            audit_log::actor.eq(&actor.email),
            audit_log::admin_id.eq(actor.admin),
            audit_log::action.eq(action),
            audit_log::target.eq(target),
            audit_log::detail.eq(detail),
            audit_log::client_addr.eq(actor.address.as_deref()),
            audit_log::user_agent.eq(user_agent),
        ))
        .execute(conn)?;
    Ok(())
}

/// What the audit page asks for.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this action.
    pub action: Option<AuditAction>,
    /// Only entries whose actor starts with this text (case-insensitive): an e-mail address as
    /// people type it, found through its index.
    pub actor: Option<String>,
    /// Only entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this time.
    pub until: Option<DateTime<Utc>>,
    /// The page after this entry (newest first): its time and id.
    pub after: Option<(DateTime<Utc>, AuditId)>,
}

/// The newest entries matching `filter`, at most `limit`, newest first.
pub fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let mut query = audit_log::table
        .filter(audit_log::tenant_id.eq(tenant))
        .select(AuditRow::as_select())
        .into_boxed();
    if let Some(action) = filter.action {
        query = query.filter(audit_log::action.eq(action));
    }
    if let Some(actor) = filter.actor.as_deref().filter(|a| !a.is_empty()) {
        let pattern = format!(
            "{}%",
            crate::directory::query::escape_like(&actor.to_lowercase())
        );
        query = query.filter(lower(audit_log::actor).like(pattern));
    }
    if let Some(since) = filter.since {
        query = query.filter(audit_log::at.ge(since));
    }
    if let Some(until) = filter.until {
        query = query.filter(audit_log::at.lt(until));
    }
    if let Some((at, id)) = filter.after {
        query = query.filter(
            audit_log::at
                .lt(at)
                .or(audit_log::at.eq(at).and(audit_log::id.lt(id))),
        );
    }
    Ok(query
        .order((audit_log::at.desc(), audit_log::id.desc()))
        .limit(limit)
        .load(conn)?)
}

/// Entries older than this many days are purged; the operator may keep them 30 to 3650 days.
pub fn retention(days: i16) -> Result<Duration> {
    if !(30..=3650).contains(&days) {
        return Err(Error::Invalid(format!(
            "The audit log retention must be 30 to 3650 days; {days} was given."
        )));
    }
    Ok(Duration::days(i64::from(days)))
}

/// Deletes at most `batch` entries older than `cutoff`, across tenants (the maintenance).
pub fn purge_batch(conn: &mut PgConnection, cutoff: DateTime<Utc>, batch: i64) -> Result<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM audit_log a WHERE (a.tenant_id, a.id) IN (\
         SELECT x.tenant_id, x.id FROM audit_log x WHERE x.at < $1 LIMIT $2)",
    )
    .bind::<diesel::sql_types::Timestamptz, _>(cutoff)
    .bind::<diesel::sql_types::BigInt, _>(batch)
    .execute(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_in_the_actor_search_are_literal() {
        assert_eq!(
            crate::directory::query::escape_like("a_b%c\\"),
            "a\\_b\\%c\\\\"
        );
    }

    #[test]
    fn the_retention_stays_within_its_range() {
        assert!(retention(29).is_err());
        assert!(retention(3651).is_err());
        assert_eq!(retention(365).ok(), Some(Duration::days(365)));
    }
}
