//! Reviewed adoption of users SCIM does not manage (created by a CSV import or in the
//! console): the tenant's setting ([`Adoption`]), what a SCIM create that matches one does
//! ([`on_create`]), and the review of held matches ([`conflicts`], [`link`],
//! [`keep_separate`]). A linked user shows when and by whom it was linked.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use super::{Actor, record_admin_action};
use crate::db::lower;
use crate::directory::users::{UserFields, UserRow, end_sessions};
use crate::error::{Error, Result};
use crate::events::{self, NewEvent};
use crate::ids::{TenantId, UserId};
use crate::schema::{adoption_conflicts, tenants, users};
pub use crate::stored::Adoption;
use crate::stored::AuditAction;
use crate::stored::UserSource;

/// How a SCIM user matched an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedOn {
    /// The same userName (any case).
    UserName,
    /// The same e-mail address.
    Email,
}

impl MatchedOn {
    fn as_str(self) -> &'static str {
        match self {
            Self::UserName => "userName",
            Self::Email => "email",
        }
    }
}

/// What a SCIM create that matched a user SCIM does not manage came to.
#[derive(Debug, Clone)]
pub enum OnCreate {
    /// Linked (setting "Link automatically"): the existing user, now SCIM-managed, with the
    /// identity provider's fields.
    Linked(Box<UserRow>),
    /// Held for an admin's review (setting "Ask me").
    Held(MatchedOn),
    /// An admin kept them separate, and the userName is the existing user's.
    KeptSeparate,
    /// The tenant refuses to link (setting "Refuse").
    Refused,
    /// The match went away meanwhile (deleted or linked concurrently): the identity provider
    /// can simply retry.
    Gone,
}

/// Sets the tenant's adoption setting, and announces it (every server's SCIM reads it with
/// the token).
pub fn set_mode(
    conn: &mut PgConnection,
    tenant: TenantId,
    mode: Adoption,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::transaction(conn, |conn| {
        diesel::update(tenants::table.find(tenant))
            .set((tenants::adoption.eq(mode), tenants::updated_at.eq(now)))
            .execute(conn)?;
        crate::scim_tokens::announce(conn, tenant)?;
        let words = match mode {
            Adoption::Ask => "Adoption of existing users: Ask me",
            Adoption::Link => "Adoption of existing users: Link automatically",
            Adoption::Refuse => "Adoption of existing users: Refuse",
        };
        record_admin_action(
            conn,
            tenant,
            actor,
            AuditAction::SafetyAction,
            words,
            None,
            json!({"adoption": mode}),
            now,
        )
    })
}

/// The user SCIM does not manage that a create of `fields` matches: by userName first, else
/// by e-mail (unless `by_email` is false, or an admin kept that one separate).
pub fn unmanaged_match(
    conn: &mut PgConnection,
    tenant: TenantId,
    fields: &UserFields,
    by_email: bool,
) -> Result<Option<(UserRow, MatchedOn)>> {
    let by_name: Option<UserRow> = users::table
        .filter(users::tenant_id.eq(tenant))
        .filter(users::source.ne(UserSource::Scim))
        .filter(users::user_name_key.eq(lower(&fields.user_name)))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    if let Some(row) = by_name {
        return Ok(Some((row, MatchedOn::UserName)));
    }
    let Some(email) = fields.email.as_deref().filter(|_| by_email) else {
        return Ok(None);
    };
    let kept_separate = adoption_conflicts::table
        .filter(adoption_conflicts::tenant_id.eq(tenant))
        .filter(adoption_conflicts::decision.eq("separate"))
        .select(adoption_conflicts::user_id);
    let by_email: Option<UserRow> = users::table
        .filter(users::tenant_id.eq(tenant))
        .filter(users::source.ne(UserSource::Scim))
        .filter(users::email_key.eq(lower(email).nullable()))
        .filter(users::id.ne_all(kept_separate))
        .order(users::created_at.asc())
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    Ok(by_email.map(|row| (row, MatchedOn::Email)))
}

/// Decides a SCIM create that the directory did not take because it matched a user SCIM does
/// not manage, under the tenant's `mode`, in the request's unit of work. `events` are the
/// create's events, recorded (about the existing user) when it links.
pub fn on_create(
    conn: &mut PgConnection,
    tenant: TenantId,
    mode: Adoption,
    fields: &UserFields,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> Result<OnCreate> {
    let Some((existing, matched_on)) =
        unmanaged_match(conn, tenant, fields, mode != Adoption::Refuse)?
    else {
        return Ok(OnCreate::Gone);
    };
    match mode {
        Adoption::Refuse => Ok(OnCreate::Refused),
        Adoption::Link => {
            let row = link_with(conn, tenant, &existing, fields, "automatic", now)?;
            let events: Vec<NewEvent> = events
                .iter()
                .cloned()
                .map(|mut event| {
                    event.resource_id = Some(row.id.to_string());
                    event
                })
                .collect();
            events::insert_many(conn, &events)?;
            Ok(OnCreate::Linked(Box::new(row)))
        }
        Adoption::Ask => {
            let decision: Option<String> = diesel::insert_into(adoption_conflicts::table)
                .values((
                    adoption_conflicts::tenant_id.eq(tenant),
                    adoption_conflicts::user_id.eq(existing.id),
                    adoption_conflicts::matched_on.eq(matched_on.as_str()),
                    adoption_conflicts::payload.eq(&fields.attributes),
                    adoption_conflicts::user_name.eq(&fields.user_name),
                    adoption_conflicts::first_seen_at.eq(now),
                    adoption_conflicts::last_seen_at.eq(now),
                ))
                .on_conflict((adoption_conflicts::tenant_id, adoption_conflicts::user_id))
                .do_update()
                .set((
                    adoption_conflicts::matched_on.eq(matched_on.as_str()),
                    adoption_conflicts::payload.eq(&fields.attributes),
                    adoption_conflicts::user_name.eq(&fields.user_name),
                    adoption_conflicts::last_seen_at.eq(now),
                    adoption_conflicts::attempts.eq(adoption_conflicts::attempts + 1),
                ))
                .returning(adoption_conflicts::decision)
                .get_result(conn)?;
            Ok(if decision.is_some() {
                OnCreate::KeptSeparate
            } else {
                OnCreate::Held(matched_on)
            })
        }
    }
}

/// Makes `existing` SCIM-managed with the identity provider's `fields`, recording who linked
/// it (an admin's address, or `automatic`). A deactivation ends the user's sessions.
fn link_with(
    conn: &mut PgConnection,
    tenant: TenantId,
    existing: &UserRow,
    fields: &UserFields,
    by: &str,
    now: DateTime<Utc>,
) -> Result<UserRow> {
    let deactivated_at = match (existing.active, fields.active) {
        (true, false) => Some(now),
        (false, false) => existing.deactivated_at,
        _ => None,
    };
    let row: UserRow = diesel::update(users::table.find((tenant, existing.id)))
        .set((
            fields,
            users::source.eq(UserSource::Scim),
            users::linked_at.eq(now),
            users::linked_by.eq(by),
            users::version.eq(users::version + 1),
            users::updated_at.eq(now),
            users::deactivated_at.eq(deactivated_at),
        ))
        .returning(UserRow::as_returning())
        .get_result(conn)?;
    if !row.active {
        end_sessions(conn, tenant, row.id)?;
    }
    diesel::delete(adoption_conflicts::table.find((tenant, row.id))).execute(conn)?;
    Ok(row)
}

/// A held match, as the console shows it: the existing user beside what the identity
/// provider sent.
#[derive(Debug, Clone)]
pub struct Conflict {
    /// The existing user.
    pub existing: UserRow,
    /// What was held.
    pub held: Held,
}

/// What a held match keeps.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = adoption_conflicts, check_for_backend(diesel::pg::Pg))]
pub struct Held {
    /// How they matched: `userName` or `email`.
    pub matched_on: String,
    /// The identity provider's userName.
    pub user_name: String,
    /// The identity provider's document.
    pub payload: Value,
    /// The first time the identity provider tried.
    pub first_seen_at: DateTime<Utc>,
    /// The last.
    pub last_seen_at: DateTime<Utc>,
    /// How many times.
    pub attempts: i32,
    /// `Some("separate")` once an admin kept them separate.
    pub decision: Option<String>,
    /// Who decided.
    pub decided_by: Option<String>,
}

/// The tenant's held matches, waiting ones first, newest first, at most `limit`.
pub fn conflicts(conn: &mut PgConnection, tenant: TenantId, limit: i64) -> Result<Vec<Conflict>> {
    let rows: Vec<(UserRow, Held)> = adoption_conflicts::table
        .inner_join(
            users::table.on(users::tenant_id
                .eq(adoption_conflicts::tenant_id)
                .and(users::id.eq(adoption_conflicts::user_id))),
        )
        .filter(adoption_conflicts::tenant_id.eq(tenant))
        .order((
            adoption_conflicts::decision.is_not_null(),
            adoption_conflicts::last_seen_at.desc(),
        ))
        .limit(limit)
        .select((UserRow::as_select(), Held::as_select()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(existing, held)| Conflict { existing, held })
        .collect())
}

/// How many matches wait for a review.
pub fn waiting(conn: &mut PgConnection, tenant: TenantId) -> Result<i64> {
    Ok(adoption_conflicts::table
        .filter(adoption_conflicts::tenant_id.eq(tenant))
        .filter(adoption_conflicts::decision.is_null())
        .count()
        .get_result(conn)?)
}

/// Links a held match: the existing user takes the identity provider's fields and becomes
/// SCIM-managed, so that the identity provider's next retry finds it. A userName that another
/// user holds meanwhile is `Conflict`.
pub fn link(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<UserRow> {
    crate::transaction(conn, |conn| {
        let (payload, existing): (Value, UserRow) = adoption_conflicts::table
            .inner_join(
                users::table.on(users::tenant_id
                    .eq(adoption_conflicts::tenant_id)
                    .and(users::id.eq(adoption_conflicts::user_id))),
            )
            .filter(adoption_conflicts::tenant_id.eq(tenant))
            .filter(adoption_conflicts::user_id.eq(user))
            .select((adoption_conflicts::payload, UserRow::as_select()))
            .for_update()
            .first(conn)?;
        let fields = UserFields::from_document(payload)?;
        let row = link_with(conn, tenant, &existing, &fields, actor.name(), now)?;
        record_admin_action(
            conn,
            tenant,
            actor,
            AuditAction::SafetyAction,
            "Linked an existing user to the identity provider",
            Some(("User", row.id.to_string())),
            json!({"userName": row.user_name, "was": existing.user_name}),
            now,
        )?;
        Ok(row)
    })
}

/// Keeps a held match separate: the identity provider's creates with that userName go on
/// being refused (it must use another one), and an e-mail match no longer holds them.
pub fn keep_separate(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::transaction(conn, |conn| {
        let kept = diesel::update(adoption_conflicts::table.find((tenant, user)))
            .set((
                adoption_conflicts::decision.eq("separate"),
                adoption_conflicts::decided_at.eq(now),
                adoption_conflicts::decided_by.eq(actor.name()),
            ))
            .execute(conn)?;
        if kept == 0 {
            return Err(Error::NotFound);
        }
        record_admin_action(
            conn,
            tenant,
            actor,
            AuditAction::SafetyAction,
            "Kept an existing user separate from the identity provider's",
            Some(("User", user.to_string())),
            json!({}),
            now,
        )
    })
}
