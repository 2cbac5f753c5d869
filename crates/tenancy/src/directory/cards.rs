//! Badge cards of users. A card works while its user is active.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::{Error, Result};
use crate::ids::{CardId, TenantId, UserId};
use crate::schema::{cards, users};
use crate::stored::CardSource;

/// A card as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = cards, check_for_backend(diesel::pg::Pg))]
pub struct CardRow {
    /// The tenant.
    pub tenant_id: TenantId,
    /// The card's id.
    pub id: CardId,
    /// Its user.
    pub user_id: UserId,
    /// The number printed on / encoded in the card, unique per tenant.
    pub card_number: String,
    /// Where the card came from.
    pub source: CardSource,
    /// When it was added.
    pub created_at: DateTime<Utc>,
}

/// Checks a card number as typed or imported: 1–64 visible characters.
pub fn normalize_number(number: &str) -> Result<String> {
    let number = number.trim();
    if number.is_empty() || number.chars().count() > 64 || number.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "A card number must be 1 to 64 visible characters.".into(),
        ));
    }
    Ok(number.to_owned())
}

/// Adds a card to a user. A number already used in the tenant is `Conflict`.
pub fn add(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    number: &str,
    source: CardSource,
    now: DateTime<Utc>,
) -> Result<CardRow> {
    let number = normalize_number(number)?;
    Ok(diesel::insert_into(cards::table)
        .values((
            cards::tenant_id.eq(tenant),
            cards::id.eq(CardId::new_random()),
            cards::user_id.eq(user),
            cards::card_number.eq(number),
            cards::source.eq(source),
            cards::created_at.eq(now),
        ))
        .returning(CardRow::as_returning())
        .get_result(conn)?)
}

/// Who holds a card number.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct CardHolder {
    /// The user.
    pub user_id: UserId,
    /// Their `userName`.
    pub user_name: String,
    /// Their `displayName`.
    pub display_name: Option<String>,
    /// Their `name.givenName`.
    pub given_name: Option<String>,
    /// Their `name.familyName`.
    pub family_name: Option<String>,
}

impl CardHolder {
    /// How to name them to an admin: displayName, else given and family name, else userName.
    pub fn name(&self) -> String {
        super::users::or_user_name(
            super::users::person_name(
                self.display_name.as_deref(),
                self.given_name.as_deref(),
                self.family_name.as_deref(),
            ),
            &self.user_name,
        )
    }
}

/// What became of a card number given to a user.
#[derive(Debug, Clone)]
pub enum Claimed {
    /// It was free and is now theirs.
    Added(CardRow),
    /// Someone (perhaps the same user) already holds it.
    HeldBy(CardHolder),
}

/// Gives a card number to a user unless it is taken, without failing the transaction when it
/// is, so that the caller can say who holds it in the same unit of work.
pub fn claim(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    number: &str,
    source: CardSource,
    now: DateTime<Utc>,
) -> Result<Claimed> {
    let number = normalize_number(number)?;
    let added = diesel::insert_into(cards::table)
        .values((
            cards::tenant_id.eq(tenant),
            cards::id.eq(CardId::new_random()),
            cards::user_id.eq(user),
            cards::card_number.eq(&number),
            cards::source.eq(source),
            cards::created_at.eq(now),
        ))
        .on_conflict((cards::tenant_id, cards::card_number))
        .do_nothing()
        .returning(CardRow::as_returning())
        .get_result(conn)
        .optional()?;
    if let Some(card) = added {
        return Ok(Claimed::Added(card));
    }
    let holder = cards::table
        .inner_join(
            users::table.on(users::tenant_id
                .eq(cards::tenant_id)
                .and(users::id.eq(cards::user_id))),
        )
        .filter(cards::tenant_id.eq(tenant))
        .filter(cards::card_number.eq(&number))
        .select((
            users::id,
            users::user_name,
            users::display_name,
            users::given_name,
            users::family_name,
        ))
        .first(conn)
        .optional()?;
    // The holder's card was removed between the two statements: give it again.
    match holder {
        Some(holder) => Ok(Claimed::HeldBy(holder)),
        None => Err(Error::Contended),
    }
}

/// Removes card `card` of `user`: the removed card, `None` when there is no such card of theirs.
pub fn remove(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    card: CardId,
) -> Result<Option<CardRow>> {
    Ok(diesel::delete(
        cards::table
            .find((tenant, card))
            .filter(cards::user_id.eq(user)),
    )
    .returning(CardRow::as_returning())
    .get_result(conn)
    .optional()?)
}

/// The cards of a user, oldest first.
pub fn for_user(conn: &mut PgConnection, tenant: TenantId, user: UserId) -> Result<Vec<CardRow>> {
    Ok(cards::table
        .filter(cards::tenant_id.eq(tenant))
        .filter(cards::user_id.eq(user))
        .order(cards::created_at.asc())
        .select(CardRow::as_select())
        .load(conn)?)
}

/// How many cards the tenant has.
pub fn count(conn: &mut PgConnection, tenant: TenantId) -> Result<i64> {
    Ok(cards::table
        .filter(cards::tenant_id.eq(tenant))
        .count()
        .get_result(conn)?)
}
