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

/// [`find_by_user_names_with_groups`]'s statement: `$1` tenant, `$2` the userNames; each row
/// carries the 1-based position of the name it matched.
pub static WITH_GROUPS_BY_USER_NAMES: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT q.at, u.*, m.group_ids, m.group_names \
         FROM unnest($2::text[]) WITH ORDINALITY AS q(name, at) \
         JOIN users u ON u.tenant_id = $1 AND u.user_name_key = lower(q.name) {GROUPS_OF_U}"
    )
});

/// A row of [`WITH_GROUPS_BY_USER_NAMES`].
#[derive(QueryableByName)]
struct FoundAt {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    at: i64,
    #[diesel(embed)]
    found: Found,
}

/// [`find_by_user_name_with_groups`] for many userNames in one round trip (the batched lookups
/// of concurrent requests): the answer for each name, in the order given.
pub fn find_by_user_names_with_groups(
    conn: &mut PgConnection,
    tenant: TenantId,
    user_names: &[String],
) -> Result<Vec<Option<UserWithGroups>>> {
    let rows: Vec<FoundAt> = Prepared(
        diesel::sql_query(WITH_GROUPS_BY_USER_NAMES.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Array<Text>, _>(user_names),
    )
    .load(conn)?;
    let mut answers: Vec<Option<UserWithGroups>> = (0..user_names.len()).map(|_| None).collect();
    for row in rows {
        let slot = usize::try_from(row.at - 1)
            .ok()
            .and_then(|at| answers.get_mut(at));
        if let Some(slot) = slot {
            *slot = Some(row.found.split());
        }
    }
    Ok(answers)
}
