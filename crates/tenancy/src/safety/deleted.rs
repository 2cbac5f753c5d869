//! Deletion that can be undone: a deleted user leaves `users` (so SCIM answers 404, lists and
//! sign-in do not see it, its cards stop working and its userName is free) and is kept here,
//! with its cards and groups, until its tenant's retention for deleted users passes; an admin
//! can restore it with the same id meanwhile. The purge never removes a user deleted while the
//! circuit breaker is tripped and not yet acknowledged.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamptz, Uuid};

use crate::error::Result;
use crate::ids::{TenantId, UserId};
use crate::prepared::Prepared;
use crate::schema::deleted_users;

/// Days a deleted user is kept when its tenant chose no other retention.
pub const DEFAULT_DELETED_RETENTION_DAYS: i16 = 30;

/// A deleted user, as the console lists it.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = deleted_users, check_for_backend(diesel::pg::Pg))]
pub struct DeletedUser {
    /// The user's id (the same again once restored).
    #[diesel(column_name = user_id)]
    pub id: UserId,
    /// `userName` when deleted.
    pub user_name: String,
    /// The name shown for it.
    pub shown_name: String,
    /// When.
    pub deleted_at: DateTime<Utc>,
    /// `scim`, or the admin who deleted it.
    pub deleted_by: String,
    /// When it is removed for good.
    pub purge_after: DateTime<Utc>,
}

/// Keeps the users, their cards and their groups (then they are deleted: their memberships,
/// cards and sessions go with them). `$1` tenant, `$2` the users, `$3` now, `$4` who.
const ARCHIVE: &str = "INSERT INTO deleted_users (tenant_id, user_id, user_name, shown_name, \
     deleted_at, deleted_by, purge_after, user_row, cards, group_ids) \
     SELECT u.tenant_id, u.id, u.user_name, \
       coalesce(nullif(btrim(coalesce(u.display_name, concat_ws(' ', u.given_name, u.family_name))), ''), u.user_name), \
       $3, $4, $3 + make_interval(days => coalesce(t.deleted_user_retention_days, 30)), to_jsonb(u), \
       coalesce((SELECT jsonb_agg(to_jsonb(c)) FROM cards c WHERE c.tenant_id = $1 AND c.user_id = u.id), '[]'), \
       coalesce((SELECT jsonb_agg(m.group_id) FROM group_members m WHERE m.tenant_id = $1 AND m.user_id = u.id), '[]') \
     FROM users u JOIN tenants t ON t.id = u.tenant_id WHERE u.tenant_id = $1 AND u.id = ANY($2) \
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET user_name = excluded.user_name, \
       shown_name = excluded.shown_name, deleted_at = excluded.deleted_at, deleted_by = excluded.deleted_by, \
       purge_after = excluded.purge_after, user_row = excluded.user_row, cards = excluded.cards, \
       group_ids = excluded.group_ids";

/// Deletes a user so that it can be restored: kept, then removed from the directory, in the
/// caller's transaction. Whether it existed.
pub fn delete(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    by: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(delete_many(conn, tenant, &[id], by, now)? == 1)
}

/// [`delete`] for several users at once (two statements whatever their number); how many
/// existed.
pub fn delete_many(
    conn: &mut PgConnection,
    tenant: TenantId,
    ids: &[UserId],
    by: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    if ids.is_empty() {
        return Ok(0);
    }
    let ids: Vec<uuid::Uuid> = ids.iter().map(UserId::as_uuid).collect();
    let kept = Prepared(
        diesel::sql_query(ARCHIVE)
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Array<Uuid>, _>(&ids)
            .bind::<Timestamptz, _>(now)
            .bind::<Text, _>(by),
    )
    .execute(conn)?;
    diesel::delete(
        crate::schema::users::table
            .filter(crate::schema::users::tenant_id.eq(tenant))
            .filter(
                crate::schema::users::id
                    .eq_any(ids.iter().map(|id| UserId::from(*id)).collect::<Vec<_>>()),
            ),
    )
    .execute(conn)?;
    Ok(kept)
}

/// Restores, in one statement, those of `ids` that are kept and whose userName no user has
/// taken since (of two kept users with one userName, the last deleted): the same id, its
/// fields, cards still free and groups that still exist. `$1` tenant, `$2` ids, `$3` now.
const RESTORE: &str = "WITH pick AS (\
       SELECT DISTINCT ON (lower(d.user_name)) d.user_id FROM deleted_users d \
       WHERE d.tenant_id = $1 AND d.user_id = ANY($2) \
         AND NOT EXISTS (SELECT 1 FROM users x WHERE x.tenant_id = $1 AND x.user_name_key = lower(d.user_name)) \
       ORDER BY lower(d.user_name), d.deleted_at DESC), \
     d AS (DELETE FROM deleted_users d WHERE d.tenant_id = $1 AND d.user_id IN (SELECT user_id FROM pick) RETURNING *), \
     u AS (INSERT INTO users (tenant_id, id, user_name, external_id, active, display_name, given_name, \
         family_name, email, source, attributes, oidc_subject, version, created_at, updated_at, \
         deactivated_at, linked_at, linked_by) \
       SELECT $1, r.id, r.user_name, r.external_id, r.active, r.display_name, r.given_name, \
         r.family_name, r.email, r.source, r.attributes, r.oidc_subject, r.version + 1, r.created_at, $3, \
         r.deactivated_at, r.linked_at, r.linked_by \
       FROM d, jsonb_populate_record(NULL::users, d.user_row) r RETURNING id), \
     c AS (INSERT INTO cards (tenant_id, id, user_id, card_number, source, created_at) \
       SELECT $1, c.id, c.user_id, c.card_number, c.source, c.created_at \
       FROM d, jsonb_populate_recordset(NULL::cards, d.cards) c ON CONFLICT DO NOTHING), \
     m AS (INSERT INTO group_members (tenant_id, group_id, user_id, created_at) \
       SELECT $1, g.id, d.user_id, $3 FROM d CROSS JOIN LATERAL jsonb_array_elements_text(d.group_ids) gid \
       JOIN groups g ON g.tenant_id = $1 AND g.id = gid::uuid ON CONFLICT DO NOTHING), \
     g AS (UPDATE groups SET version = version + 1, updated_at = $3 WHERE tenant_id = $1 AND id IN (\
       SELECT gid::uuid FROM d CROSS JOIN LATERAL jsonb_array_elements_text(d.group_ids) gid)) \
     SELECT id FROM u";

#[derive(QueryableByName)]
struct Restored {
    #[diesel(sql_type = Uuid)]
    id: uuid::Uuid,
}

/// Restores those of `ids` that can be (see [`RESTORE`]), in the caller's unit of work; the
/// ids restored. The others stay kept: gone for good already, or their userName is taken.
pub fn restore(
    conn: &mut PgConnection,
    tenant: TenantId,
    ids: &[UserId],
    now: DateTime<Utc>,
) -> Result<Vec<UserId>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    let restored: Vec<Restored> = diesel::sql_query(RESTORE)
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Array<Uuid>, _>(ids)
        .bind::<Timestamptz, _>(now)
        .load(conn)?;
    Ok(restored.into_iter().map(|r| UserId::from(r.id)).collect())
}

/// The tenant's deleted users still kept, newest first, at most `limit`, matching `search`
/// (a part of the userName or name) when given.
pub fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    search: Option<&str>,
    limit: i64,
) -> Result<Vec<DeletedUser>> {
    let mut query = deleted_users::table
        .filter(deleted_users::tenant_id.eq(tenant))
        .order(deleted_users::deleted_at.desc())
        .limit(limit)
        .select(DeletedUser::as_select())
        .into_boxed();
    if let Some(search) = search.map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", crate::directory::query::escape_like(search));
        query = query.filter(
            deleted_users::user_name
                .ilike(pattern.clone())
                .or(deleted_users::shown_name.ilike(pattern)),
        );
    }
    Ok(query.load(conn)?)
}

/// Forgets a deleted user for good (the connection test's throwaway user is not kept).
/// Whether it was kept.
pub fn forget(conn: &mut PgConnection, tenant: TenantId, id: UserId) -> Result<bool> {
    Ok(diesel::delete(deleted_users::table.find((tenant, id))).execute(conn)? == 1)
}

/// How many deleted users the tenant keeps.
pub fn count(conn: &mut PgConnection, tenant: TenantId) -> Result<i64> {
    Ok(deleted_users::table
        .filter(deleted_users::tenant_id.eq(tenant))
        .count()
        .get_result(conn)?)
}

/// Removes, for every tenant, at most `batch` deleted users whose retention has passed and
/// that no unacknowledged trip of the circuit breaker holds. How many.
pub(crate) fn purge_batch(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    batch: i64,
) -> Result<usize> {
    Ok(diesel::sql_query(
        "DELETE FROM deleted_users d WHERE (d.tenant_id, d.user_id) IN (\
           SELECT x.tenant_id, x.user_id FROM deleted_users x WHERE x.purge_after <= $1 \
             AND NOT EXISTS (SELECT 1 FROM breaker_trips t WHERE t.tenant_id = x.tenant_id \
               AND t.acknowledged_at IS NULL AND x.deleted_at >= t.started_at) \
           LIMIT $2)",
    )
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(batch)
    .execute(conn)?)
}
