//! Creating several users of a tenant in one statement, with their events: the batched form of
//! [`super::users::insert_recorded`] for concurrent SCIM creates.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Jsonb, Nullable, Text, Timestamptz, Uuid};

use super::users::{UserFields, UserRow};
use crate::error::Result;
use crate::events::{NewEvent, events_json};
use crate::ids::{TenantId, UserId};
use crate::prepared::Prepared;

/// A user to create over SCIM, with the events that record its creation.
#[derive(Debug, Clone)]
pub struct NewScimUser {
    /// Its new id.
    pub id: UserId,
    /// Its fields.
    pub fields: UserFields,
    /// When it was asked for.
    pub now: DateTime<Utc>,
    /// The events of its 201.
    pub events: Vec<NewEvent>,
    /// Whether a user SCIM does not manage with its e-mail address is a match (the tenant's
    /// adoption setting), as for [`super::users::insert_recorded`].
    pub match_email: bool,
}

/// [`insert_many_recorded`]'s statement: `$1` the tenant, `$2`-`$13` one array per column (the
/// events as one JSON array per user). Rows go in the order of their lower-cased userName (then
/// of arrival), so that two batches of other servers that share names cannot deadlock, and of
/// two rows with one userName the first to arrive is the one written. A row whose userName is
/// taken, by a stored user or by an earlier row of the batch, is skipped (`ON CONFLICT DO
/// NOTHING`), as is one that matches a user SCIM does not manage (the probe of
/// [`super::users::INSERT_RECORDED`]); only the events of written rows are stored. The text is
/// the same for any number of rows, so it stays prepared.
pub static INSERT_MANY_RECORDED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH i AS (SELECT * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::bool[], $6::text[], \
         $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::timestamptz[], $12::bool[], $13::jsonb[]) \
         WITH ORDINALITY AS i(id, user_name, external_id, active, display_name, given_name, family_name, \
         email, attributes, now, match_email, events, arrived)), \
         u AS (INSERT INTO users (tenant_id, id, user_name, external_id, active, display_name, given_name, \
         family_name, email, attributes, source, created_at, updated_at, deactivated_at) \
         SELECT $1, i.id, i.user_name, i.external_id, i.active, i.display_name, i.given_name, i.family_name, \
         i.email, i.attributes, 'scim', i.now, i.now, CASE WHEN i.active THEN NULL ELSE i.now END FROM i \
         WHERE NOT EXISTS (SELECT 1 FROM users x WHERE x.tenant_id = $1 AND x.source <> 'scim' \
           AND (x.user_name_key = lower(i.user_name) OR (i.match_email AND x.email_key = lower(i.email) \
             AND NOT EXISTS (SELECT 1 FROM adoption_conflicts c WHERE c.tenant_id = $1 AND c.user_id = x.id \
               AND c.decision = 'separate')))) \
         ORDER BY lower(i.user_name), i.arrived \
         ON CONFLICT DO NOTHING RETURNING *), \
         e AS ({}) SELECT * FROM u",
        crate::events::insert_per_row_from_json_sql("$1", "i JOIN u ON u.id = i.id", "i.events")
    )
});

/// Creates `users` in one statement with their events (one round trip, one commit): the rows
/// written, in no particular order. A user missing from the answer was not written, and nothing
/// of it was stored: its userName is taken (by a stored user or an earlier user of `users`), or
/// it matches a user SCIM does not manage; [`super::users::insert_recorded`] alone then tells
/// which.
pub fn insert_many_recorded(
    conn: &mut PgConnection,
    tenant: TenantId,
    users: &[&NewScimUser],
) -> Result<Vec<UserRow>> {
    let column = |text: fn(&UserFields) -> &Option<String>| -> Vec<Option<&str>> {
        users.iter().map(|u| text(&u.fields).as_deref()).collect()
    };
    Ok(Prepared(
        diesel::sql_query(INSERT_MANY_RECORDED.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Array<Uuid>, _>(users.iter().map(|u| u.id.as_uuid()).collect::<Vec<_>>())
            .bind::<Array<Text>, _>(
                users
                    .iter()
                    .map(|u| u.fields.user_name.as_str())
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Nullable<Text>>, _>(column(|f| &f.external_id))
            .bind::<Array<Bool>, _>(users.iter().map(|u| u.fields.active).collect::<Vec<_>>())
            .bind::<Array<Nullable<Text>>, _>(column(|f| &f.display_name))
            .bind::<Array<Nullable<Text>>, _>(column(|f| &f.given_name))
            .bind::<Array<Nullable<Text>>, _>(column(|f| &f.family_name))
            .bind::<Array<Nullable<Text>>, _>(column(|f| &f.email))
            .bind::<Array<Jsonb>, _>(
                users
                    .iter()
                    .map(|u| &u.fields.attributes)
                    .collect::<Vec<_>>(),
            )
            .bind::<Array<Timestamptz>, _>(users.iter().map(|u| u.now).collect::<Vec<_>>())
            .bind::<Array<Bool>, _>(users.iter().map(|u| u.match_email).collect::<Vec<_>>())
            .bind::<Array<Jsonb>, _>(
                users
                    .iter()
                    .map(|u| events_json(&u.events))
                    .collect::<Vec<_>>(),
            ),
    )
    .load(conn)?)
}
