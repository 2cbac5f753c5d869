//! The users' units of work: a page of the search with its status counts, one user with
//! everything the user page shows, and adding or removing a card (saying who holds a number
//! that is taken). Each is one `Db::run`; the list tolerates a streaming replica's lag
//! (`Db::run_read`), the user page does not (it shows the cards the admin just changed). No
//! actix types.

use chrono::Utc;
use serde_json::json;
use tenancy::audit::{self, Actor};
use tenancy::directory::cards::{self, CardHolder, CardRow, Claimed};
use tenancy::directory::user_search::{self, StatusCounts};
use tenancy::directory::users::{self, UserRow};
use tenancy::directory::{Condition, Page, SqlValue};
use tenancy::events::{self, EventRow};
use tenancy::stored::AuditAction;
use tenancy::stored::{CardSource, UserSource};
use tenancy::{CardId, Db, GroupId, TenantId, UserId};

use super::profile;
use crate::error::ConsoleError;

/// What the admin searches for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserSearch {
    /// Text in the userName, name, email, title or department (any case, any accents).
    pub text: String,
    /// Only active (`Some(true)`) or deactivated users.
    pub active: Option<bool>,
    /// Only users from this source.
    pub source: Option<UserSource>,
}

impl UserSearch {
    /// The condition, without the status: the status counts are of the other filters.
    fn condition(&self) -> Condition {
        let mut parts = Vec::new();
        let mut binds = Vec::new();
        let text = self.text.trim();
        if !text.is_empty() {
            let matching = user_search::matching(text);
            parts.push(matching.sql);
            binds.extend(matching.binds);
        }
        if let Some(source) = self.source {
            parts.push("u.source = $?".to_owned());
            binds.push(SqlValue::Text(source.as_str().to_owned()));
        }
        if parts.is_empty() {
            Condition::always()
        } else {
            Condition {
                sql: parts.join(" AND "),
                binds,
            }
        }
    }
}

/// A page of users and the counts beside it.
#[derive(Debug)]
pub struct UserList {
    /// The page, by userName.
    pub rows: Vec<UserRow>,
    /// Active and deactivated users matching the text and source.
    pub counts: StatusCounts,
    /// Users matching every filter (the status too).
    pub total: i64,
}

/// One page (`offset`, `limit`) of the users matching `search`.
pub async fn list_users(
    db: &Db,
    tenant: TenantId,
    search: &UserSearch,
    offset: i64,
    limit: i64,
) -> Result<UserList, ConsoleError> {
    let others = search.condition();
    let active = search.active;
    let listed = match active {
        None => others.clone(),
        Some(active) => {
            let mut condition = if others.is_always() {
                Condition {
                    sql: String::new(),
                    binds: Vec::new(),
                }
            } else {
                Condition {
                    sql: format!("{} AND ", others.sql),
                    binds: others.binds.clone(),
                }
            };
            condition.sql.push_str("u.active = $?");
            condition.binds.push(SqlValue::Bool(active));
            condition
        }
    };
    let page = Page {
        offset,
        limit,
        order_by: Some("u.user_name_key"),
        descending: false,
    };
    let (rows, counts) = db
        .run_read(tenant, move |conn| -> Result<_, tenancy::Error> {
            let counts = user_search::status_counts(conn, tenant, &others)?;
            let rows = users::list(conn, tenant, &listed, &page)?;
            Ok((rows, counts))
        })
        .await?;
    let total = match active {
        None => counts.all(),
        Some(true) => counts.active,
        Some(false) => counts.deactivated,
    };
    Ok(UserList {
        rows,
        counts,
        total,
    })
}

/// A user's manager, found in the directory when the reference is one of its ids.
#[derive(Debug, Clone)]
pub struct Manager {
    /// The manager's user, when the reference names one.
    pub user: Option<(UserId, String)>,
    /// The name the identity provider sent, else the reference as sent.
    pub sent: String,
}

/// Everything the user page shows.
#[derive(Debug)]
pub struct UserDetail {
    /// The user.
    pub row: UserRow,
    /// Their groups, by name.
    pub groups: Vec<(GroupId, String)>,
    /// Their cards, oldest first.
    pub cards: Vec<CardRow>,
    /// Their manager.
    pub manager: Option<Manager>,
    /// For a deactivated user: the recorded request that deactivated them, if any.
    pub deactivated_by: Option<EventRow>,
    /// The newest requests about them (Provisioning history).
    pub history: Vec<EventRow>,
}

/// Requests shown in a user's or group's Provisioning history (the rest are a link away).
pub const HISTORY: i64 = 10;

/// The user `id` (`NotFound` when the tenant has no such user).
pub async fn user_detail(
    db: &Db,
    tenant: TenantId,
    id: UserId,
) -> Result<UserDetail, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| read_detail(conn, tenant, id))
        .await?)
}

fn read_detail(
    conn: &mut tenancy::PgConnection,
    tenant: TenantId,
    id: UserId,
) -> Result<UserDetail, tenancy::Error> {
    let row = users::find(conn, tenant, id)?.ok_or(tenancy::Error::NotFound)?;
    let groups = users::groups_of(conn, tenant, &[id])?
        .into_iter()
        .map(|(_, group, name)| (group, name))
        .collect();
    let cards = cards::for_user(conn, tenant, id)?;
    let manager = match profile::manager(&row.attributes) {
        None => None,
        Some(reference) => {
            let found = match reference.value.as_deref().map(str::parse::<UserId>) {
                Some(Ok(manager_id)) if manager_id != id => {
                    users::find(conn, tenant, manager_id)?.map(|m| (m.id, m.name_or_user_name()))
                }
                _ => None,
            };
            Some(Manager {
                user: found,
                sent: reference
                    .display_name
                    .or(reference.value)
                    .unwrap_or_default(),
            })
        }
    };
    let deactivated_by = match (row.active, row.deactivated_at) {
        (false, Some(at)) => events::last_write_to(conn, tenant, &id.to_string(), at)?,
        _ => None,
    };
    let history = events::recent_about(conn, tenant, &id.to_string(), HISTORY)?;
    Ok(UserDetail {
        row,
        groups,
        cards,
        manager,
        deactivated_by,
        history,
    })
}

/// Why a card was not added, for the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardRefused {
    /// What is wrong, in words.
    pub message: String,
    /// The user who holds the number, when that is the reason (and it is someone else).
    pub holder: Option<(UserId, String)>,
}

/// What adding a card did.
#[derive(Debug)]
pub enum CardAdded {
    /// Added.
    Added(CardRow),
    /// Refused; the page to show again, with the reason.
    Refused(Box<UserDetail>, CardRefused),
}

/// Gives card `number` to `user`, or says why not (the number is taken, and by whom, or it is
/// not a card number) together with the user page to show the refusal on.
pub async fn add_card(
    db: &Db,
    tenant: TenantId,
    user: UserId,
    number: String,
    actor: Actor,
) -> Result<CardAdded, ConsoleError> {
    Ok(db
        .run(tenant, move |conn| -> Result<CardAdded, tenancy::Error> {
            let found = users::find(conn, tenant, user)?.ok_or(tenancy::Error::NotFound)?;
            let claimed = tenancy::retrying(conn, |conn| {
                tenancy::transaction(conn, |conn| -> Result<Claimed, tenancy::Error> {
                    let now = Utc::now();
                    let claimed =
                        cards::claim(conn, tenant, user, &number, CardSource::Console, now)?;
                    if let Claimed::Added(card) = &claimed {
                        audit::record(
                            conn,
                            tenant,
                            &actor,
                            AuditAction::CardAdded,
                            Some(&card.card_number),
                            json!({ "user": found.user_name, "user_id": user }),
                            now,
                        )?;
                    }
                    Ok(claimed)
                })
            });
            let refused = match claimed {
                Ok(Claimed::Added(card)) => return Ok(CardAdded::Added(card)),
                Ok(Claimed::HeldBy(holder)) => held(&number, user, holder),
                Err(tenancy::Error::Invalid(message)) => CardRefused {
                    message,
                    holder: None,
                },
                Err(other) => return Err(other),
            };
            let detail = read_detail(conn, tenant, user)?;
            Ok(CardAdded::Refused(Box::new(detail), refused))
        })
        .await?)
}

fn held(number: &str, user: UserId, holder: CardHolder) -> CardRefused {
    let number = number.trim();
    if holder.user_id == user {
        return CardRefused {
            message: format!("This user already has card {number}."),
            holder: None,
        };
    }
    let shown = holder.name();
    let name = if shown == holder.user_name {
        shown
    } else {
        format!("{shown} ({})", holder.user_name)
    };
    CardRefused {
        message: format!(
            "Card {number} already belongs to {name}. Remove it from them first, or check the number."
        ),
        holder: Some((holder.user_id, name)),
    }
}

/// Removes card `card` of `user`; `NotFound` when there is no such card of theirs.
pub async fn remove_card(
    db: &Db,
    tenant: TenantId,
    user: UserId,
    card: CardId,
    actor: Actor,
) -> Result<(), ConsoleError> {
    let removed = db
        .run(tenant, move |conn| {
            tenancy::transaction(conn, |conn| -> Result<bool, tenancy::Error> {
                let Some(card) = cards::remove(conn, tenant, user, card)? else {
                    return Ok(false);
                };
                audit::record(
                    conn,
                    tenant,
                    &actor,
                    AuditAction::CardRemoved,
                    Some(&card.card_number),
                    json!({ "user_id": user }),
                    Utc::now(),
                )?;
                Ok(true)
            })
        })
        .await?;
    if removed {
        Ok(())
    } else {
        Err(ConsoleError::NotFound)
    }
}
