//! A group's members one page at a time, sorted by userName and optionally searched, with what
//! the console shows of each (userName, name, email, status): a 50,000-member group is read a
//! page at a time, never whole.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text, Uuid};

use crate::error::Result;
use crate::ids::{GroupId, TenantId, UserId};

/// A member as listed.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct MemberLine {
    /// The user.
    #[diesel(sql_type = Uuid)]
    pub id: UserId,
    /// `userName`.
    #[diesel(sql_type = Text)]
    pub user_name: String,
    /// `displayName`.
    #[diesel(sql_type = Nullable<Text>)]
    pub display_name: Option<String>,
    /// `name.givenName`.
    #[diesel(sql_type = Nullable<Text>)]
    pub given_name: Option<String>,
    /// `name.familyName`.
    #[diesel(sql_type = Nullable<Text>)]
    pub family_name: Option<String>,
    /// The primary email.
    #[diesel(sql_type = Nullable<Text>)]
    pub email: Option<String>,
    /// `active`.
    #[diesel(sql_type = Bool)]
    pub active: bool,
}

// Walking the users in userName order and probing the membership key stops after one page
// when members are many (the case that matters), instead of joining and sorting them all.
// The page of ids comes from the userName index alone (it carries the id and the folded
// text); only the page's rows are then read whole.
const MEMBERS_PAGE: &str = "SELECT o.id, o.user_name, o.display_name, o.given_name, o.family_name, o.email, o.active \
     FROM (SELECT u.id, u.user_name_key FROM users u WHERE u.tenant_id = $1 \
       AND EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = $1 AND m.group_id = $2 AND m.user_id = u.id) \
       AND ($3::text IS NULL OR strpos(u.search_key, insights_fold($3)) > 0) \
       ORDER BY u.user_name_key, u.id LIMIT $4 OFFSET $5) p \
     JOIN users o ON o.tenant_id = $1 AND o.id = p.id ORDER BY p.user_name_key, p.id";

const MEMBERS_COUNT: &str = "SELECT count(*) AS n FROM group_members m \
     WHERE m.tenant_id = $1 AND m.group_id = $2";

const MATCHING_MEMBERS_COUNT: &str = "SELECT count(*) AS n FROM group_members m \
     JOIN users u ON u.tenant_id = m.tenant_id AND u.id = m.user_id \
     WHERE m.tenant_id = $1 AND m.group_id = $2 AND strpos(u.search_key, insights_fold($3)) > 0";

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// One page of `group`'s members whose userName, name or email contain `search` (ignoring
/// case and accents), in userName order, and how many match in all.
pub fn members_page(
    conn: &mut PgConnection,
    tenant: TenantId,
    group: GroupId,
    search: Option<&str>,
    offset: i64,
    limit: i64,
) -> Result<(Vec<MemberLine>, i64)> {
    let members = diesel::sql_query(MEMBERS_PAGE)
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Uuid, _>(group.as_uuid())
        .bind::<Nullable<Text>, _>(search)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(offset)
        .load(conn)?;
    let total = match search {
        None => member_count(conn, tenant, group)?,
        Some(text) => {
            diesel::sql_query(MATCHING_MEMBERS_COUNT)
                .bind::<Uuid, _>(tenant.as_uuid())
                .bind::<Uuid, _>(group.as_uuid())
                .bind::<Text, _>(text)
                .get_result::<Count>(conn)?
                .n
        }
    };
    Ok((members, total))
}

/// How many members `group` has.
pub fn member_count(conn: &mut PgConnection, tenant: TenantId, group: GroupId) -> Result<i64> {
    Ok(diesel::sql_query(MEMBERS_COUNT)
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Uuid, _>(group.as_uuid())
        .get_result::<Count>(conn)?
        .n)
}
