//! User rows: the queried columns plus the complete SCIM document in `attributes`.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::Value;

use super::limits::{MAX_EMAIL_BYTES, MAX_EXTERNAL_ID_BYTES, MAX_USER_NAME_BYTES, check_length};
use super::query::{self, Condition, Page};
use crate::db::lower;
use crate::error::{Error, Result};
use crate::ids::{GroupId, TenantId, UserId};
use crate::prepared::Prepared;
use crate::schema::{group_members, groups, sessions, users};
use crate::stored::UserSource;

/// A user as stored.
#[derive(Debug, Clone, Queryable, Selectable, QueryableByName)]
#[diesel(table_name = users, check_for_backend(diesel::pg::Pg))]
pub struct UserRow {
    /// Owning tenant.
    pub tenant_id: TenantId,
    /// The SCIM `id`.
    pub id: UserId,
    /// `userName`, in the case it was sent; unique per tenant regardless of case.
    pub user_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `active`: false blocks sign-in and cards.
    pub active: bool,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `name.givenName`.
    pub given_name: Option<String>,
    /// `name.familyName`.
    pub family_name: Option<String>,
    /// The primary (or first) email address.
    pub email: Option<String>,
    /// Where the user came from.
    pub source: UserSource,
    /// The whole SCIM resource as last written, less id, meta, groups and password.
    pub attributes: Value,
    /// The OpenID subject linked at first sign-in.
    pub oidc_subject: Option<String>,
    /// Incremented on every change; the ETag.
    pub version: i64,
    /// `meta.created`.
    pub created_at: DateTime<Utc>,
    /// `meta.lastModified`.
    pub updated_at: DateTime<Utc>,
    /// When the user was last deactivated (while inactive).
    pub deactivated_at: Option<DateTime<Utc>>,
    /// When a user SCIM did not create was linked to the identity provider.
    pub linked_at: Option<DateTime<Utc>>,
    /// Who linked it: an admin's address, or `automatic`.
    pub linked_by: Option<String>,
}

impl UserRow {
    /// The name to show a person: displayName, else given and family name (may be empty).
    pub fn shown_name(&self) -> String {
        person_name(
            self.display_name.as_deref(),
            self.given_name.as_deref(),
            self.family_name.as_deref(),
        )
    }

    /// [`UserRow::shown_name`], else the userName when that is blank.
    pub fn name_or_user_name(&self) -> String {
        or_user_name(self.shown_name(), &self.user_name)
    }
}

/// The name to show a person: displayName, else given and family name (may be empty). Every
/// place that names a user (lists, pages, card holders, group members) goes through it.
pub fn person_name(display: Option<&str>, given: Option<&str>, family: Option<&str>) -> String {
    match display {
        Some(display) => display.to_owned(),
        None => [given, family]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// `name`, else `user_name` when `name` is blank.
pub fn or_user_name(name: String, user_name: &str) -> String {
    if name.trim().is_empty() {
        user_name.to_owned()
    } else {
        name
    }
}

/// The values a write sets: derived from the SCIM document by the caller.
#[derive(Debug, Clone, PartialEq, AsChangeset, Insertable)]
#[diesel(table_name = users, treat_none_as_null = true)]
pub struct UserFields {
    /// `userName`.
    pub user_name: String,
    /// `externalId`.
    pub external_id: Option<String>,
    /// `active`.
    pub active: bool,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `name.givenName`.
    pub given_name: Option<String>,
    /// `name.familyName`.
    pub family_name: Option<String>,
    /// Primary email.
    pub email: Option<String>,
    /// The complete document.
    pub attributes: Value,
}

impl UserFields {
    /// Derives the columns from a complete SCIM user document (canonical attribute names).
    /// `userName` is required; `active` defaults to true; the email column holds the primary
    /// email, else the first. A `password` is never stored: provisioned users sign in with
    /// OpenID, and an identity provider's password push must not leave a copy here.
    pub fn from_document(mut doc: Value) -> Result<Self> {
        if let Some(map) = doc.as_object_mut() {
            map.retain(|key, _| !key.eq_ignore_ascii_case("password"));
        }
        let text = |pointer: &str| {
            doc.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let user_name = text("/userName")
            .filter(|name| !name.trim().is_empty())
            .ok_or_else(|| {
                Error::Invalid("\"userName\" is required and must be a non-empty string.".into())
            })?;
        check_length("userName", &user_name, MAX_USER_NAME_BYTES)?;
        let emails = doc.get("emails").and_then(Value::as_array);
        let primary = emails.and_then(|list| {
            list.iter()
                .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true))
        });
        let email = primary
            .or_else(|| emails.and_then(|list| list.first()))
            .and_then(|e| e.get("value"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        let external_id = text("/externalId");
        if let Some(external_id) = &external_id {
            check_length("externalId", external_id, MAX_EXTERNAL_ID_BYTES)?;
        }
        if let Some(email) = &email {
            check_length("emails.value", email, MAX_EMAIL_BYTES)?;
        }
        Ok(Self {
            user_name,
            external_id,
            active: doc.get("active").and_then(Value::as_bool).unwrap_or(true),
            display_name: text("/displayName"),
            given_name: text("/name/givenName"),
            family_name: text("/name/familyName"),
            email,
            attributes: doc,
        })
    }

    /// The fields of a stored row (to tell whether a write changes anything).
    pub fn of(row: &UserRow) -> Self {
        Self {
            user_name: row.user_name.clone(),
            external_id: row.external_id.clone(),
            active: row.active,
            display_name: row.display_name.clone(),
            given_name: row.given_name.clone(),
            family_name: row.family_name.clone(),
            email: row.email.clone(),
            attributes: row.attributes.clone(),
        }
    }
}

/// Inserts a user in one `INSERT ... RETURNING`. A duplicate userName is `Conflict`.
pub fn insert(
    conn: &mut PgConnection,
    tenant: TenantId,
    fields: &UserFields,
    source: UserSource,
    now: DateTime<Utc>,
) -> Result<UserRow> {
    Ok(diesel::insert_into(users::table)
        .values((
            users::tenant_id.eq(tenant),
            users::id.eq(UserId::new_random()),
            fields,
            users::source.eq(source),
            users::created_at.eq(now),
            users::updated_at.eq(now),
            // A user created deactivated was deactivated when created.
            users::deactivated_at.eq((!fields.active).then_some(now)),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)?)
}

/// [`insert_recorded`]'s statement: the user (`$1` tenant, `$2` id, `$3`-`$11` the fields,
/// `$12` now) and its events (`$13`, JSON) in one statement. A user created deactivated was
/// deactivated when created. Nothing is written when a user SCIM does not manage has the
/// userName, or (with `$14`) the e-mail address of one not kept separate by an admin: that is
/// for the tenant's adoption setting to decide (`safety::adoption`). Both probes go through
/// partial indexes of those users only, which a SCIM-provisioned tenant has few of.
pub static INSERT_RECORDED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH u AS (INSERT INTO users (tenant_id, id, user_name, external_id, active, display_name, given_name, \
         family_name, email, attributes, source, created_at, updated_at, deactivated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, CASE WHEN $5 THEN NULL ELSE $12 END \
         WHERE NOT EXISTS (SELECT 1 FROM users x WHERE x.tenant_id = $1 AND x.source <> 'scim' \
           AND (x.user_name_key = lower($3) OR ($14 AND x.email_key = lower($9) AND NOT EXISTS (\
             SELECT 1 FROM adoption_conflicts c WHERE c.tenant_id = $1 AND c.user_id = x.id AND c.decision = 'separate')))) \
         RETURNING *), \
         e AS ({} WHERE EXISTS (SELECT 1 FROM u)) SELECT * FROM u",
        crate::events::insert_from_json_sql("$1", "$13")
    )
});

/// What a SCIM write sets besides the fields, with now bound at `$now`: the user is
/// SCIM-managed from then on, and one that was not is recorded as linked automatically (a SCIM
/// write reaches such a user only when the tenant links automatically).
macro_rules! link_on_write {
    ($now:literal) => {
        concat!(
            "source = 'scim', linked_at = CASE WHEN users.source <> 'scim' THEN ",
            $now,
            " ELSE users.linked_at END, linked_by = CASE WHEN users.source <> 'scim' THEN 'automatic' ELSE users.linked_by END"
        )
    };
}
pub(crate) use link_on_write;

const LINK_ON_WRITE: &str = link_on_write!("$12");

/// [`update_recorded`]'s statement: `$1` tenant, `$2` id, `$3` the version read, `$4`-`$11`
/// the fields, `$12` now, `$13` deactivated_at, `$14` the events (JSON).
pub static UPDATE_RECORDED: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH u AS (UPDATE users SET user_name = $4, external_id = $5, active = $6, display_name = $7, \
         given_name = $8, family_name = $9, email = $10, attributes = $11, version = $3 + 1, \
         updated_at = $12, deactivated_at = $13, {LINK_ON_WRITE} \
         WHERE tenant_id = $1 AND id = $2 AND version = $3 RETURNING *), \
         {END_SESSIONS_OF_DEACTIVATED}, \
         e AS ({} WHERE EXISTS (SELECT 1 FROM u)) \
         SELECT * FROM u",
        crate::events::insert_from_json_sql("$1", "$14")
    )
});

/// Inserts a user and records `events` about it in one statement (one round trip, one commit):
/// either both are stored or neither. A duplicate userName is `Conflict`. `None`, with nothing
/// written, when the user matches one SCIM does not manage (by userName, or by e-mail when
/// `match_email`): see [`INSERT_RECORDED`].
#[expect(clippy::too_many_arguments, reason = "one statement's parameters")]
pub fn insert_recorded(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    fields: &UserFields,
    source: UserSource,
    now: DateTime<Utc>,
    events: &[crate::events::NewEvent],
    match_email: bool,
) -> Result<Option<UserRow>> {
    use diesel::sql_types::{Bool, Jsonb, Nullable, Text, Timestamptz, Uuid};
    Ok(Prepared(
        diesel::sql_query(INSERT_RECORDED.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Uuid, _>(id.as_uuid())
            .bind::<Text, _>(&fields.user_name)
            .bind::<Nullable<Text>, _>(&fields.external_id)
            .bind::<Bool, _>(fields.active)
            .bind::<Nullable<Text>, _>(&fields.display_name)
            .bind::<Nullable<Text>, _>(&fields.given_name)
            .bind::<Nullable<Text>, _>(&fields.family_name)
            .bind::<Nullable<Text>, _>(&fields.email)
            .bind::<Jsonb, _>(&fields.attributes)
            .bind::<Text, _>(source)
            .bind::<Timestamptz, _>(now)
            .bind::<Jsonb, _>(crate::events::events_json(events))
            .bind::<Bool, _>(match_email),
    )
    .get_result(conn)
    .optional()?)
}

/// The user with this id in this tenant.
pub fn find(conn: &mut PgConnection, tenant: TenantId, id: UserId) -> Result<Option<UserRow>> {
    Ok(users::table
        .find((tenant, id))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// The user with this id, locked for the rest of the transaction (read-modify-write).
pub fn find_for_update(conn: &mut PgConnection, tenant: TenantId, id: UserId) -> Result<UserRow> {
    Ok(users::table
        .find((tenant, id))
        .select(UserRow::as_select())
        .for_update()
        .first(conn)?)
}

/// The user whose userName equals `user_name` regardless of case.
pub fn find_by_user_name(
    conn: &mut PgConnection,
    tenant: TenantId,
    user_name: &str,
) -> Result<Option<UserRow>> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant))
        // PostgreSQL's lower() of the value against the stored lower() of the userName, as the
        // unique index has it (Rust's lowercasing differs for a few characters); a fixed query
        // shape, so diesel prepares it once per connection.
        .filter(users::user_name_key.eq(lower(user_name)))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Replaces a user's fields. With `expected_version`, a concurrent change is `Conflict`
/// (`version`). Deactivation ends the user's sessions in the same transaction.
pub fn update(
    conn: &mut PgConnection,
    tenant: TenantId,
    current: &UserRow,
    fields: &UserFields,
    now: DateTime<Utc>,
) -> Result<UserRow> {
    let deactivated_at = match (current.active, fields.active) {
        (true, false) => Some(now),
        (false, false) => current.deactivated_at,
        _ => None,
    };
    let row: Option<UserRow> = diesel::update(users::table.find((tenant, current.id)))
        .filter(users::version.eq(current.version))
        .set((
            fields,
            users::version.eq(current.version + 1),
            users::updated_at.eq(now),
            users::deactivated_at.eq(deactivated_at),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)
        .optional()?;
    let row = row.ok_or_else(|| Error::Conflict {
        constraint: "version".into(),
    })?;
    if !row.active {
        end_sessions(conn, tenant, row.id)?;
    }
    Ok(row)
}

/// The CTE that ends the sessions of the user written by the CTE `u` (tenant `$1`) when the
/// write left them inactive: a deactivation signs the user out in the same statement.
pub const END_SESSIONS_OF_DEACTIVATED: &str = "s AS (DELETE FROM sessions WHERE tenant_id = $1 \
     AND user_id IN (SELECT id FROM u WHERE NOT active))";

/// Writes a user's new fields if its version is still `current.version`, and records `events`
/// about it, in one statement (one round trip, one commit, no lock held between statements).
/// Deactivation ends the user's sessions in the same statement. `None` when another write got
/// there first; the caller reads the user again and retries.
pub fn update_recorded(
    conn: &mut PgConnection,
    tenant: TenantId,
    current: &UserRow,
    fields: &UserFields,
    now: DateTime<Utc>,
    events: &[crate::events::NewEvent],
) -> Result<Option<UserRow>> {
    use diesel::sql_types::{BigInt, Bool, Jsonb, Nullable, Text, Timestamptz, Uuid};
    let deactivated_at = match (current.active, fields.active) {
        (true, false) => Some(now),
        (false, false) => current.deactivated_at,
        _ => None,
    };
    Ok(Prepared(
        diesel::sql_query(UPDATE_RECORDED.as_str())
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Uuid, _>(current.id.as_uuid())
            .bind::<BigInt, _>(current.version)
            .bind::<Text, _>(&fields.user_name)
            .bind::<Nullable<Text>, _>(&fields.external_id)
            .bind::<Bool, _>(fields.active)
            .bind::<Nullable<Text>, _>(&fields.display_name)
            .bind::<Nullable<Text>, _>(&fields.given_name)
            .bind::<Nullable<Text>, _>(&fields.family_name)
            .bind::<Nullable<Text>, _>(&fields.email)
            .bind::<Jsonb, _>(&fields.attributes)
            .bind::<Timestamptz, _>(now)
            .bind::<Nullable<Timestamptz>, _>(deactivated_at)
            .bind::<Jsonb, _>(crate::events::events_json(events)),
    )
    .get_result(conn)
    .optional()?)
}

/// Deletes a user (memberships, cards and sessions go with it). Whether it existed.
pub fn delete(conn: &mut PgConnection, tenant: TenantId, id: UserId) -> Result<bool> {
    Ok(diesel::delete(users::table.find((tenant, id))).execute(conn)? == 1)
}

/// Ends every sign-in session of the user at once.
pub fn end_sessions(conn: &mut PgConnection, tenant: TenantId, id: UserId) -> Result<usize> {
    Ok(diesel::delete(
        sessions::table
            .filter(sessions::tenant_id.eq(tenant))
            .filter(sessions::user_id.eq(id)),
    )
    .execute(conn)?)
}

/// The groups of each of these users: `(user, group, group displayName)`, ordered by group name.
pub fn groups_of(
    conn: &mut PgConnection,
    tenant: TenantId,
    ids: &[UserId],
) -> Result<Vec<(UserId, GroupId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(group_members::table
        .inner_join(
            groups::table.on(groups::tenant_id
                .eq(group_members::tenant_id)
                .and(groups::id.eq(group_members::group_id))),
        )
        .filter(group_members::tenant_id.eq(tenant))
        .filter(group_members::user_id.eq_any(ids))
        .order(groups::display_name.asc())
        .select((group_members::user_id, groups::id, groups::display_name))
        .load(conn)?)
}

/// Which of these ids are users of the tenant.
pub fn existing_ids(
    conn: &mut PgConnection,
    tenant: TenantId,
    ids: &[UserId],
) -> Result<Vec<UserId>> {
    Ok(users::table
        .filter(users::tenant_id.eq(tenant))
        .filter(users::id.eq_any(ids))
        .select(users::id)
        .load(conn)?)
}

/// One page of the users matching `condition` (alias `u`).
pub fn list(
    conn: &mut PgConnection,
    tenant: TenantId,
    condition: &Condition,
    page: &Page,
) -> Result<Vec<UserRow>> {
    query::load_page(conn, "users", "u", tenant, condition, page)
}

/// How many users match `condition` (alias `u`).
pub fn count(conn: &mut PgConnection, tenant: TenantId, condition: &Condition) -> Result<i64> {
    query::count(conn, "users", "u", tenant, condition)
}
