//! Badge cards of users. A card works while its user is active.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::error::{Error, Result};
use crate::ids::{CardId, TenantId, UserId};
use crate::schema::cards;
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

/// Removes one card of one user; whether it existed.
pub fn remove(
    conn: &mut PgConnection,
    tenant: TenantId,
    user: UserId,
    card: CardId,
) -> Result<bool> {
    Ok(diesel::delete(
        cards::table
            .find((tenant, card))
            .filter(cards::user_id.eq(user)),
    )
    .execute(conn)?
        == 1)
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
