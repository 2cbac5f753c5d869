//! Group rows and memberships. Member writes are set-based (one statement for a whole batch)
//! and never read-modify-write the member list, so concurrent changes to one group lose nothing.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use super::limits::{MAX_EXTERNAL_ID_BYTES, MAX_GROUP_NAME_BYTES, check_length};
use super::query::{self, Condition, Page};
use crate::db::lower;
use crate::error::{Error, Result};
use crate::ids::{GroupId, TenantId, UserId};
use crate::prepared::Prepared;
use crate::schema::{group_members, groups, users};

/// A group as stored.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = groups, check_for_backend(diesel::pg::Pg))]
pub struct GroupRow {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The SCIM `id`.
    pub id: GroupId,
    /// `displayName`, unique per tenant regardless of case.
    pub display_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// Every other attribute the identity provider sent (less members, id and meta).
    pub attributes: Value,
    /// Incremented on every change, members included; the ETag.
    pub version: i64,
    /// `meta.created`.
    pub created_at: DateTime<Utc>,
    /// `meta.lastModified`.
    pub updated_at: DateTime<Utc>,
}

/// The values a group write sets.
#[derive(Debug, Clone, PartialEq, AsChangeset, Insertable)]
#[diesel(table_name = groups, treat_none_as_null = true)]
pub struct GroupFields {
    /// `displayName`.
    pub display_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// The complete document less members.
    pub attributes: Value,
}

impl GroupFields {
    /// Derives the columns from a complete SCIM group document (less members).
    /// `displayName` is required and, like `externalId`, limited in length.
    pub fn from_document(doc: Value) -> Result<Self> {
        let display_name = doc
            .get("displayName")
            .and_then(Value::as_str)
            .filter(|name| !name.trim().is_empty())
            .map(str::to_owned)
            .ok_or_else(|| {
                Error::Invalid("\"displayName\" is required and must be a non-empty string.".into())
            })?;
        check_length("displayName", &display_name, MAX_GROUP_NAME_BYTES)?;
        let external_id = doc
            .get("externalId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(external_id) = &external_id {
            check_length("externalId", external_id, MAX_EXTERNAL_ID_BYTES)?;
        }
        Ok(Self {
            display_name,
            external_id,
            attributes: doc,
        })
    }
}

/// A member as listed in a group: the user's id and a name to show.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct MemberRow {
    /// The group.
    pub group_id: GroupId,
    /// The member.
    pub user_id: UserId,
    /// The user's displayName, else userName.
    pub display: String,
}

/// Inserts a group.
pub fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    fields: &GroupFields,
    now: DateTime<Utc>,
) -> Result<GroupRow> {
    Ok(diesel::insert_into(groups::table)
        .values((
            groups::tenant_id.eq(tenant),
            groups::id.eq(GroupId::new_random()),
            fields,
            groups::created_at.eq(now),
            groups::updated_at.eq(now),
        ))
        .returning(GroupRow::as_returning())
        .get_result(conn)?)
}

/// The group with this id in this tenant.
pub fn find(conn: &mut PgConnection, tenant: TenantId, id: GroupId) -> Result<Option<GroupRow>> {
    Ok(groups::table
        .find((tenant, id))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()?)
}

/// The group with this id, locked for the rest of the transaction (read-modify-write).
pub fn find_for_update(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: GroupId,
) -> Result<Option<GroupRow>> {
    Ok(groups::table
        .find((tenant, id))
        .select(GroupRow::as_select())
        .for_update()
        .first(conn)
        .optional()?)
}

/// Writes a group's fields if its version is still `expected_version`, and bumps the version.
/// Members are unaffected. A concurrent change is `Conflict` (`version`).
pub fn update(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: GroupId,
    expected_version: i64,
    fields: &GroupFields,
    now: DateTime<Utc>,
) -> Result<GroupRow> {
    diesel::update(groups::table.find((tenant, id)))
        .filter(groups::version.eq(expected_version))
        .set((
            fields,
            groups::version.eq(expected_version + 1),
            groups::updated_at.eq(now),
        ))
        .returning(GroupRow::as_returning())
        .get_result(conn)
        .optional()?
        .ok_or_else(|| Error::Conflict {
            constraint: "version".into(),
        })
}

/// Marks a group changed (members changed): bumps version and lastModified. Done last in a
/// transaction, so the group's row lock is held only until the commit that follows.
pub fn touch(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: GroupId,
    now: DateTime<Utc>,
) -> Result<GroupRow> {
    Ok(diesel::update(groups::table.find((tenant, id)))
        .set((
            groups::version.eq(groups::version + 1),
            groups::updated_at.eq(now),
        ))
        .returning(GroupRow::as_returning())
        .get_result(conn)?)
}

/// Deletes a group and its memberships. Whether it existed.
pub fn delete(conn: &mut PgConnection, tenant: TenantId, id: GroupId) -> Result<bool> {
    Ok(diesel::delete(groups::table.find((tenant, id))).execute(conn)? == 1)
}

/// Adds members in one statement; existing members are left as they are. Returns how many were
/// new. Every user must exist in the tenant (the foreign key guarantees it).
pub fn add_members(
    conn: &mut PgConnection,
    tenant: TenantId,
    group: GroupId,
    members: &[UserId],
) -> Result<usize> {
    if members.is_empty() {
        return Ok(0);
    }
    let ids: Vec<uuid::Uuid> = members.iter().map(UserId::as_uuid).collect();
    Prepared(
        diesel::sql_query(
            "INSERT INTO group_members (tenant_id, group_id, user_id) \
             SELECT $1, $2, m FROM unnest($3::uuid[]) AS m ON CONFLICT DO NOTHING",
        )
        .bind::<diesel::sql_types::Uuid, _>(tenant.as_uuid())
        .bind::<diesel::sql_types::Uuid, _>(group.as_uuid())
        .bind::<diesel::sql_types::Array<diesel::sql_types::Uuid>, _>(ids),
    )
    .execute(conn)
    .map_err(missing_member_or_group)
}

/// A foreign key said no: a member that is not a user of the tenant (or was deleted a moment
/// ago) is `Invalid`; a group deleted concurrently is `NotFound`.
fn missing_member_or_group(error: diesel::result::Error) -> Error {
    use diesel::result::{DatabaseErrorKind, Error as DieselError};
    match &error {
        DieselError::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, info) => {
            if info.constraint_name().is_some_and(|c| c.contains("user")) {
                Error::Invalid(
                    "A member is not a user of this tenant (it may just have been deleted). Nothing was changed."
                        .into(),
                )
            } else {
                Error::NotFound
            }
        }
        _ => error.into(),
    }
}

/// Removes these members (absent ones are ignored). Returns how many were removed.
pub fn remove_members(
    conn: &mut PgConnection,
    tenant: TenantId,
    group: GroupId,
    members: &[UserId],
) -> Result<usize> {
    if members.is_empty() {
        return Ok(0);
    }
    Ok(diesel::delete(
        group_members::table
            .filter(group_members::tenant_id.eq(tenant))
            .filter(group_members::group_id.eq(group))
            .filter(group_members::user_id.eq_any(members)),
    )
    .execute(conn)?)
}

/// Removes every member.
pub fn clear_members(conn: &mut PgConnection, tenant: TenantId, group: GroupId) -> Result<usize> {
    Ok(diesel::delete(
        group_members::table
            .filter(group_members::tenant_id.eq(tenant))
            .filter(group_members::group_id.eq(group)),
    )
    .execute(conn)?)
}

/// The members of these groups with a name to show, ordered by user id.
pub fn members_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    ids: &[GroupId],
) -> Result<Vec<MemberRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::define_sql_function!(fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::Text>, y: diesel::sql_types::Text) -> diesel::sql_types::Text);
    Ok(group_members::table
        .inner_join(
            users::table.on(users::tenant_id
                .eq(group_members::tenant_id)
                .and(users::id.eq(group_members::user_id))),
        )
        .filter(group_members::tenant_id.eq(tenant))
        .filter(group_members::group_id.eq_any(ids))
        .order((group_members::group_id, group_members::user_id))
        .select((
            group_members::group_id,
            group_members::user_id,
            coalesce(users::display_name, users::user_name),
        ))
        .load(conn)?)
}

/// How many members each group has.
pub fn member_counts(
    conn: &mut PgConnection,
    tenant: TenantId,
    ids: &[GroupId],
) -> Result<Vec<(GroupId, i64)>> {
    Ok(group_members::table
        .filter(group_members::tenant_id.eq(tenant))
        .filter(group_members::group_id.eq_any(ids))
        .group_by(group_members::group_id)
        .select((group_members::group_id, diesel::dsl::count_star()))
        .load(conn)?)
}

/// One page of the groups matching `condition` (alias `g`).
pub fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    condition: &Condition,
    page: &Page,
) -> Result<Vec<GroupRow>> {
    query::load_page(conn, "groups", "g", tenant, condition, page)
}

/// How many groups match `condition` (alias `g`).
pub fn count(conn: &mut PgConnection, tenant: TenantId, condition: &Condition) -> Result<i64> {
    query::count(conn, "groups", "g", tenant, condition)
}

/// The ids of up to `limit` groups whose name contains `text`, ignoring case (the activity
/// log's search).
pub fn ids_named_like(
    conn: &mut PgConnection,
    tenant: TenantId,
    text: &str,
    limit: i64,
) -> Result<Vec<GroupId>> {
    let pattern = format!("%{}%", query::escape_like(text));
    Ok(groups::table
        .filter(groups::tenant_id.eq(tenant))
        .filter(groups::display_name.ilike(pattern))
        .select(groups::id)
        .limit(limit)
        .load(conn)?)
}

/// The group named `name`, ignoring case as the unique index does.
pub fn find_by_name(
    conn: &mut PgConnection,
    tenant: TenantId,
    name: &str,
) -> Result<Option<GroupRow>> {
    Ok(groups::table
        .filter(groups::tenant_id.eq(tenant))
        .filter(groups::display_name_key.eq(lower(name)))
        .select(GroupRow::as_select())
        .first(conn)
        .optional()?)
}
