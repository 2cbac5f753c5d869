//! One user together with their groups in one prepared round trip: the reads on the SCIM hot
//! path (Okta's lookup by userName before every create, and the read before every change).

use std::sync::LazyLock;

use diesel::prelude::*;
use diesel::sql_types::{Array, Text, Uuid};

use super::users::UserRow;
use crate::error::Result;
use crate::ids::{GroupId, TenantId, UserId};
use crate::prepared::Prepared;

/// A user and their groups (id and display name, ordered by name).
pub type UserWithGroups = (UserRow, Vec<(GroupId, String)>);

/// The groups of the user `u` in the same row, ordered by name (an aggregate without
/// `GROUP BY` always yields one row, so a user in no group gets two empty arrays).
pub const GROUPS_OF_U: &str = "CROSS JOIN LATERAL (\
     SELECT COALESCE(array_agg(g.id ORDER BY g.display_name, g.id), '{}') AS group_ids, \
     COALESCE(array_agg(g.display_name ORDER BY g.display_name, g.id), '{}') AS group_names \
     FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id \
     WHERE gm.tenant_id = u.tenant_id AND gm.user_id = u.id) m";

/// A row of `SELECT u.*, m.group_ids, m.group_names ... {GROUPS_OF_U}`.
#[derive(QueryableByName)]
pub(crate) struct Found {
    #[diesel(embed)]
    user: UserRow,
    #[diesel(sql_type = Array<Uuid>)]
    group_ids: Vec<uuid::Uuid>,
    #[diesel(sql_type = Array<Text>)]
    group_names: Vec<String>,
}

impl Found {
    pub(crate) fn split(self) -> UserWithGroups {
        let groups = self
            .group_ids
            .into_iter()
            .map(GroupId::from)
            .zip(self.group_names)
            .collect();
        (self.user, groups)
    }
}

/// [`find_with_groups`]'s statement: `$1` tenant, `$2` user id.
pub static WITH_GROUPS_BY_ID: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT u.*, m.group_ids, m.group_names FROM users u {GROUPS_OF_U} \
         WHERE u.tenant_id = $1 AND u.id = $2"
    )
});

/// [`find_by_user_name_with_groups`]'s statement (Okta's `userName eq` lookup): `$1` tenant,
/// `$2` the userName.
pub static WITH_GROUPS_BY_USER_NAME: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT u.*, m.group_ids, m.group_names FROM users u {GROUPS_OF_U} \
         WHERE u.tenant_id = $1 AND u.user_name_key = lower($2)"
    )
});

/// The user with this id and their groups (id and display name, by name).
pub fn find_with_groups(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
) -> Result<Option<UserWithGroups>> {
    let found: Option<Found> = Prepared(
        diesel::sql_query(WITH_GROUPS_BY_ID.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Uuid, _>(id.as_uuid()),
    )
    .get_result(conn)
    .optional()?;
    Ok(found.map(Found::split))
}

/// The user whose userName equals `user_name` regardless of case (the stored `lower()` of the
/// userName, which the unique index holds, against `lower()` of the value), and their groups.
pub fn find_by_user_name_with_groups(
    conn: &mut PgConnection,
    tenant: TenantId,
    user_name: &str,
) -> Result<Option<UserWithGroups>> {
    let found: Option<Found> = Prepared(
        diesel::sql_query(WITH_GROUPS_BY_USER_NAME.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Text, _>(user_name),
    )
    .get_result(conn)
    .optional()?;
    Ok(found.map(Found::split))
}

/// [`find_by_user_names_with_groups`]'s statement: `$1` tenant, `$2` the userName keys. A
/// plain array parameter, so that even a generic plan made on stale statistics looks every key
/// up in the unique index (an expression over the names would not be an index condition then,
/// and the plan would read all of the tenant's users).
pub static WITH_GROUPS_BY_USER_NAME_KEYS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT u.user_name_key AS key, u.*, m.group_ids, m.group_names FROM users u {GROUPS_OF_U} \
         WHERE u.tenant_id = $1 AND u.user_name_key = ANY ($2::text[])"
    )
});

/// A row of [`WITH_GROUPS_BY_USER_NAME_KEYS`].
#[derive(QueryableByName)]
struct FoundByKey {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(embed)]
    found: Found,
}

/// [`find_by_user_name_with_groups`] for many userNames (the batched lookups of concurrent
/// requests): the answer for each name, in the order given. ASCII names (nearly all: they are
/// e-mail addresses) in one round trip, by their key: PostgreSQL's `lower()` of them is plain
/// ASCII lower case whatever the database's locale. Any other name is looked up on its own, by
/// `lower()`.
pub fn find_by_user_names_with_groups(
    conn: &mut PgConnection,
    tenant: TenantId,
    user_names: &[String],
) -> Result<Vec<Option<UserWithGroups>>> {
    let keys: Vec<Option<String>> = user_names
        .iter()
        .map(|name| name.is_ascii().then(|| name.to_ascii_lowercase()))
        .collect();
    let mut distinct: Vec<&String> = keys.iter().flatten().collect();
    distinct.sort();
    distinct.dedup();
    let rows: Vec<FoundByKey> = Prepared(
        diesel::sql_query(WITH_GROUPS_BY_USER_NAME_KEYS.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Array<Text>, _>(distinct),
    )
    .load(conn)?;
    let found: std::collections::HashMap<String, UserWithGroups> = rows
        .into_iter()
        .map(|row| (row.key, row.found.split()))
        .collect();
    keys.iter()
        .zip(user_names)
        .map(|(key, name)| match key {
            Some(key) => Ok(found.get(key).cloned()),
            None => find_by_user_name_with_groups(conn, tenant, name),
        })
        .collect()
}
