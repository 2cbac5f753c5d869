//! The console's user search: case- and accent-insensitive matching over the stored
//! `search_key` (userName, names, email, title and department, folded by `insights_fold`),
//! and the status counts shown beside the results.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Uuid};

use super::query::{self, Condition, SqlValue};
use crate::error::Result;
use crate::ids::TenantId;

/// The users (alias `u`) whose userName, name, email, title or department contain `text`,
/// ignoring case and accents ("cagla" finds "Çağla").
pub fn matching(text: &str) -> Condition {
    Condition {
        sql: "strpos(u.search_key, insights_fold($?)) > 0".into(),
        binds: vec![SqlValue::Text(text.to_owned())],
    }
}

/// How many of the users matching a condition are active and how many deactivated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, QueryableByName)]
pub struct StatusCounts {
    /// Active users.
    #[diesel(sql_type = BigInt)]
    pub active: i64,
    /// Deactivated users.
    #[diesel(sql_type = BigInt)]
    pub deactivated: i64,
}

impl StatusCounts {
    /// Both together.
    pub fn all(&self) -> i64 {
        self.active + self.deactivated
    }
}

/// Counts the users matching `condition` (alias `u`) by status, in one scan.
pub fn status_counts(
    conn: &mut PgConnection,
    tenant: TenantId,
    condition: &Condition,
) -> Result<StatusCounts> {
    let (where_sql, _) = query::number_placeholders(&condition.sql, 2);
    let sql = format!(
        "SELECT count(*) FILTER (WHERE u.active) AS active, count(*) FILTER (WHERE NOT u.active) AS deactivated \
         FROM users u WHERE u.tenant_id = $1 AND ({where_sql})"
    );
    let query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<Uuid, _>(tenant.as_uuid());
    Ok(query::bind_all(query, &condition.binds).get_result(conn)?)
}

/// The ids of up to `limit` users matching `text` (see [`matching`]), for the activity log's
/// search.
pub fn ids_matching(
    conn: &mut PgConnection,
    tenant: TenantId,
    text: &str,
    limit: i64,
) -> Result<Vec<crate::ids::UserId>> {
    Ok(diesel::sql_query(
        "SELECT u.id FROM users u WHERE u.tenant_id = $1 \
         AND strpos(u.search_key, insights_fold($2)) > 0 LIMIT $3",
    )
    .bind::<Uuid, _>(tenant.as_uuid())
    .bind::<diesel::sql_types::Text, _>(text)
    .bind::<BigInt, _>(limit)
    .load::<MatchedUser>(conn)?
    .into_iter()
    .map(|row| row.id)
    .collect())
}

#[derive(QueryableByName)]
struct MatchedUser {
    #[diesel(sql_type = Uuid)]
    id: crate::ids::UserId,
}
