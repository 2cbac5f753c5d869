//! Refused SCIM requests, counted per tenant, minute and reason (see the migration
//! `rejected_requests`): written in batches by the SCIM API's rejection log, read by the
//! console's connection health. Never the presented token, never the body.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz, Uuid};
use serde::Serialize;

use crate::error::Result;
use crate::ids::TenantId;
use crate::stored::RejectionReason;

/// Refused requests of one tenant, minute and reason, as gathered by one server.
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    /// The tenant the URL named.
    pub tenant_id: TenantId,
    /// The minute they arrived in.
    pub minute: DateTime<Utc>,
    /// Why they were refused.
    pub reason: RejectionReason,
    /// How many.
    pub requests: i32,
    /// When the last arrived.
    pub last_at: DateTime<Utc>,
    /// The last client's address.
    pub last_address: String,
    /// The last client's user agent.
    pub last_user_agent: Option<String>,
}

// One statement per tenant for any number of its rows (the tenant bound as `$1`, never read
// from the JSON; the rows one JSON parameter, so it stays prepared); a tenant that does not
// exist is left out, and counts of the same minute add up.
const RECORD: &str = "INSERT INTO rejected_requests \
     (tenant_id, minute, reason, requests, last_at, last_address, last_user_agent) \
     SELECT $1::uuid, r.minute, r.reason, r.requests, r.last_at, r.last_address, r.last_user_agent \
     FROM jsonb_to_recordset($2) AS r(minute timestamptz, reason text, requests int, \
       last_at timestamptz, last_address text, last_user_agent text) \
     WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = $1) \
     ON CONFLICT (tenant_id, minute, reason) DO UPDATE SET \
       requests = rejected_requests.requests + EXCLUDED.requests, \
       last_at = greatest(rejected_requests.last_at, EXCLUDED.last_at), \
       last_address = CASE WHEN EXCLUDED.last_at >= rejected_requests.last_at \
         THEN EXCLUDED.last_address ELSE rejected_requests.last_address END, \
       last_user_agent = CASE WHEN EXCLUDED.last_at >= rejected_requests.last_at \
         THEN EXCLUDED.last_user_agent ELSE rejected_requests.last_user_agent END";

/// Stores `rejected` (at most one entry per tenant, minute and reason); returns the rows
/// written (entries of unknown tenants are not).
pub fn record_many(conn: &mut PgConnection, rejected: &[Rejected]) -> Result<usize> {
    if rejected.is_empty() {
        return Ok(0);
    }
    let groups = crate::events::by_tenant(rejected, |r| r.tenant_id);
    crate::events::all_or_none(conn, groups, |conn, tenant, of_tenant| {
        let rows = serde_json::to_value(of_tenant).unwrap_or(serde_json::Value::Array(Vec::new()));
        Ok(crate::prepared::Prepared(
            diesel::sql_query(RECORD)
                .bind::<Uuid, _>(tenant.as_uuid())
                .bind::<Jsonb, _>(rows),
        )
        .execute(conn)?)
    })
}

/// Refused requests of one reason over a period.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct RejectedSummary {
    /// Why.
    #[diesel(sql_type = Text)]
    pub reason: RejectionReason,
    /// How many.
    #[diesel(sql_type = BigInt)]
    pub requests: i64,
    /// When the last arrived.
    #[diesel(sql_type = Timestamptz)]
    pub last_at: DateTime<Utc>,
    /// The last client's address.
    #[diesel(sql_type = Text)]
    pub last_address: String,
    /// The last client's user agent.
    #[diesel(sql_type = Nullable<Text>)]
    pub last_user_agent: Option<String>,
}

const SINCE: &str = "SELECT reason, sum(requests)::bigint AS requests, max(last_at) AS last_at, \
     (array_agg(last_address ORDER BY last_at DESC))[1] AS last_address, \
     (array_agg(last_user_agent ORDER BY last_at DESC))[1] AS last_user_agent \
     FROM rejected_requests WHERE tenant_id = $1 AND minute >= $2 \
     GROUP BY reason ORDER BY max(last_at) DESC";

/// The tenant's refused requests since `since`, by reason, the most recent first.
pub fn since(
    conn: &mut PgConnection,
    tenant: TenantId,
    since: DateTime<Utc>,
) -> Result<Vec<RejectedSummary>> {
    Ok(diesel::sql_query(SINCE)
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Timestamptz, _>(since)
        .load(conn)?)
}

/// One minute's refused requests of one reason, as the Activity log lists them.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = crate::schema::rejected_requests, check_for_backend(diesel::pg::Pg))]
pub struct RejectedMinute {
    /// The minute.
    pub minute: DateTime<Utc>,
    /// Why.
    pub reason: RejectionReason,
    /// How many.
    pub requests: i32,
    /// When the last arrived.
    pub last_at: DateTime<Utc>,
    /// The last client's address.
    pub last_address: String,
    /// The last client's user agent.
    pub last_user_agent: Option<String>,
}

/// The tenant's refused requests by minute in `[since, until)`, newest first: a page of
/// `limit` after `offset`, and how many minutes there are (up to `count_limit` + 1).
pub fn minutes(
    conn: &mut PgConnection,
    tenant: TenantId,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    (offset, limit): (i64, i64),
    count_limit: i64,
) -> Result<(Vec<RejectedMinute>, i64)> {
    use crate::schema::rejected_requests as r;
    let query = || {
        let mut query = r::table.filter(r::tenant_id.eq(tenant)).into_boxed();
        if let Some(since) = since {
            query = query.filter(r::minute.ge(since));
        }
        if let Some(until) = until {
            query = query.filter(r::minute.lt(until));
        }
        query
    };
    let total = i64::try_from(
        query()
            .select(r::minute)
            .limit(count_limit + 1)
            .load::<DateTime<Utc>>(conn)?
            .len(),
    )
    .unwrap_or(count_limit + 1);
    let rows = query()
        .order((r::minute.desc(), r::reason))
        .offset(offset)
        .limit(limit)
        .select(RejectedMinute::as_select())
        .load(conn)?;
    Ok((rows, total))
}
