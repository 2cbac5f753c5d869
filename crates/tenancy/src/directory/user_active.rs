//! Setting a user's `active` in one statement, without reading the user first: Okta's and
//! Entra's deactivations, the most frequent write they send.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Bool, Jsonb, Timestamptz, Uuid};

use super::user_lookup::{Found, GROUPS_OF_U, UserWithGroups};
use super::users::END_SESSIONS_OF_DEACTIVATED;
use crate::error::Result;
use crate::events::{NewEvent, events_json, insert_from_json_sql, insert_per_row_from_json_sql};
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
/// deactivation, and the change's events recorded in the same statement. Returns the user and
/// their groups.
///
/// `None`, with nothing written, when there is no such user or it already is that way: the
/// caller applies the PATCH the general way, which answers 404 or records a write that changes
/// nothing. (Reading the user first to tell those apart would cost the round trip this saves.)
pub fn set_active_recorded(
    conn: &mut PgConnection,
    tenant: TenantId,
    change: &ActiveChange,
) -> Result<Option<UserWithGroups>> {
    let found: Option<Found> = Prepared(
        diesel::sql_query(SET_ACTIVE_RECORDED.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Uuid, _>(change.id.as_uuid())
            .bind::<Bool, _>(change.active)
            .bind::<Timestamptz, _>(change.now)
            .bind::<Jsonb, _>(events_json(&change.events))
            .bind::<Bool, _>(change.unmanaged_writable),
    )
    .get_result(conn)
    .optional()?;
    Ok(found.map(Found::split))
}

/// A path-less `active` PATCH (Okta's and Entra's deactivation): what
/// [`set_active_recorded`] and [`set_active_many_recorded`] write.
#[derive(Debug, Clone)]
pub struct ActiveChange {
    /// The user.
    pub id: UserId,
    /// The value sent.
    pub active: bool,
    /// When it was asked for.
    pub now: DateTime<Utc>,
    /// The events of its 200.
    pub events: Vec<NewEvent>,
    /// Whether a user SCIM does not manage may be written (the tenant links automatically).
    pub unmanaged_writable: bool,
}

/// [`set_active_many_recorded`]'s statement: `$1` the tenant, `$2`-`$6` one array per field of
/// [`ActiveChange`] (the events as one JSON array per change). What [`SET_ACTIVE_RECORDED`]
/// does for one change, for all of them in one statement: the updates, the end of the
/// deactivated users' sessions, the events of the changes written (and only those) and the
/// users with their groups. Users are locked in the order of their ids, so that two servers'
/// batches cannot deadlock. The text is the same for any number of changes, so it stays
/// prepared.
pub static SET_ACTIVE_MANY_RECORDED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH i AS (SELECT * FROM unnest($2::uuid[], $3::bool[], $4::timestamptz[], $5::jsonb[], $6::bool[]) \
         AS i(id, active, now, events, unmanaged_writable) ORDER BY id), \
         u AS (UPDATE users SET active = i.active, \
         attributes = jsonb_set(users.attributes, '{{active}}', to_jsonb(i.active)), \
         version = users.version + 1, updated_at = i.now, \
         deactivated_at = CASE WHEN i.active THEN NULL WHEN users.active THEN i.now ELSE users.deactivated_at END, \
         {} \
         FROM i WHERE users.tenant_id = $1 AND users.id = i.id AND (users.source = 'scim' OR i.unmanaged_writable) \
         AND (users.active <> i.active OR users.attributes -> 'active' IS DISTINCT FROM to_jsonb(i.active)) \
         RETURNING users.*), \
         {END_SESSIONS_OF_DEACTIVATED}, \
         e AS ({}) \
         SELECT u.*, m.group_ids, m.group_names FROM u {GROUPS_OF_U}",
        super::users::link_on_write!("i.now"),
        insert_per_row_from_json_sql("$1", "i JOIN u ON u.id = i.id", "i.events"),
    )
});

/// [`set_active_recorded`] for several changes of one tenant in one statement (one round trip,
/// one commit), each for another user: the users written, with their groups, in no particular
/// order. A change missing from the answer wrote nothing (no such user, or it already is that
/// way), as `None` of [`set_active_recorded`] means.
pub fn set_active_many_recorded(
    conn: &mut PgConnection,
    tenant: TenantId,
    changes: &[&ActiveChange],
) -> Result<Vec<UserWithGroups>> {
    use diesel::sql_types::Array;
    let found: Vec<Found> = Prepared(
        diesel::sql_query(SET_ACTIVE_MANY_RECORDED.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Array<Uuid>, _>(changes.iter().map(|c| c.id.as_uuid()).collect::<Vec<_>>())
            .bind::<Array<Bool>, _>(changes.iter().map(|c| c.active).collect::<Vec<_>>())
            .bind::<Array<Timestamptz>, _>(changes.iter().map(|c| c.now).collect::<Vec<_>>())
            .bind::<Array<Jsonb>, _>(
                changes
                    .iter()
                    .map(|c| events_json(&c.events))
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Bool>, _>(
                changes
                    .iter()
                    .map(|c| c.unmanaged_writable)
                    .collect::<Vec<_>>(),
            ),
    )
    .load(conn)?;
    Ok(found.into_iter().map(Found::split).collect())
}
