//! Setting a user's `active` in one statement, without reading the user first: Okta's and
//! Entra's deactivations, the most frequent write they send.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Jsonb, Timestamptz, Uuid};

use super::user_lookup::{Found, GROUPS_OF_U, UserWithGroups};
use super::users::END_SESSIONS_OF_DEACTIVATED;
use crate::error::Result;
use crate::events::{NewEvent, events_json, insert_from_json_sql};
use crate::ids::{TenantId, UserId};
use crate::prepared::Prepared;

/// [`set_active_recorded`]'s statement: `$1` tenant, `$2` user, `$3` active, `$4` now, `$5` the
/// events (JSON), `$6` whether a user SCIM does not manage may be written (the tenant links
/// automatically). A concurrent write is no hazard: the update applies to the latest version,
/// and sets only `active`, whatever else that version holds.
pub static SET_ACTIVE_RECORDED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH u AS (UPDATE users SET active = $3, attributes = jsonb_set(attributes, '{{active}}', to_jsonb($3)), \
         version = version + 1, updated_at = $4, \
         deactivated_at = CASE WHEN $3 THEN NULL WHEN users.active THEN $4 ELSE users.deactivated_at END, \
         {} \
         WHERE tenant_id = $1 AND id = $2 AND (source = 'scim' OR $6) \
         AND (active <> $3 OR attributes -> 'active' IS DISTINCT FROM to_jsonb($3)) RETURNING *), \
         {END_SESSIONS_OF_DEACTIVATED}, \
         e AS ({} WHERE EXISTS (SELECT 1 FROM u)) \
         SELECT u.*, m.group_ids, m.group_names FROM u {GROUPS_OF_U}",
        super::users::link_on_write!("$4"),
        insert_from_json_sql("$1", "$5")
    )
});

/// Sets `active` (in the column and in the document) when that changes the user, with what
/// every user write does: a new version, `deactivated_at`, the end of the user's sessions on
/// deactivation, and `events` recorded in the same statement. Returns the user and their
/// groups.
///
/// `None`, with nothing written, when there is no such user or it already is that way: the
/// caller applies the PATCH the general way, which answers 404 or records a write that changes
/// nothing. (Reading the user first to tell those apart would cost the round trip this saves.)
pub fn set_active_recorded(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    active: bool,
    now: DateTime<Utc>,
    events: &[NewEvent],
    unmanaged_writable: bool,
) -> Result<Option<UserWithGroups>> {
    let found: Option<Found> = Prepared(
        diesel::sql_query(SET_ACTIVE_RECORDED.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Uuid, _>(id.as_uuid())
            .bind::<Bool, _>(active)
            .bind::<Timestamptz, _>(now)
            .bind::<Jsonb, _>(events_json(events))
            .bind::<Bool, _>(unmanaged_writable),
    )
    .get_result(conn)
    .optional()?;
    Ok(found.map(Found::split))
}
