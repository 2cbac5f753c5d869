//! The user work done in batches (see [`crate::batch`]): Okta's `userName eq` lookups, creates,
//! and path-less `active` PATCHes. Each batch is one unit of database work for one tenant; a
//! batch of one does exactly what the request would do alone.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use tenancy::directory::user_active::{self, ActiveChange};
use tenancy::directory::user_create::{self, NewScimUser};
use tenancy::directory::user_lookup::{self, UserWithGroups};
use tenancy::directory::users::{self, UserRow};
use tenancy::safety::adoption::{self, Adoption, OnCreate};
use tenancy::stored::UserSource;
use tenancy::{Db, PgConnection, TenantId, UserId};

use crate::batch::{Batcher, Figures};
use crate::error::ScimError;

/// The batchers of user work, one per kind.
#[derive(Clone)]
pub struct Batches {
    /// Okta's `userName eq` lookups.
    pub lookups: Lookups,
    /// `POST /Users`.
    pub creates: Creates,
    /// Path-less `active` PATCHes.
    pub active_changes: ActiveChanges,
}

impl Batches {
    /// The batchers over `db`.
    pub fn new(db: &Db) -> Self {
        Self {
            lookups: lookups(db.clone()),
            creates: creates(db.clone()),
            active_changes: active_changes(db.clone()),
        }
    }

    /// How much of each kind was batched, by name.
    pub fn figures(&self) -> [(&'static str, Figures); 3] {
        [
            ("lookups", self.lookups.figures()),
            ("creates", self.creates.figures()),
            ("active_changes", self.active_changes.figures()),
        ]
    }
}

/// The batched `userName eq` lookups: concurrent lookups of a tenant are answered together
/// with each user's groups (see `user_lookup::find_by_user_names_with_groups`).
pub type Lookups = Arc<Batcher<String, Option<UserWithGroups>>>;

fn lookups(db: Db) -> Lookups {
    Batcher::new(Arc::new(move |tenant, names: Vec<String>| {
        let db = db.clone();
        Box::pin(async move {
            db.run(tenant, move |conn| {
                match names.as_slice() {
                    // Alone: the single-row statement, whose plan is cached once and for all.
                    [name] => user_lookup::find_by_user_name_with_groups(conn, tenant, name)
                        .map(|found| vec![found]),
                    _ => user_lookup::find_by_user_names_with_groups(conn, tenant, &names),
                }
                .map_err(ScimError::from)
            })
            .await
        })
    }))
}

/// A `POST /Users`, as batched: the new user with the events of its 201, and the tenant's
/// adoption setting for a match with a user SCIM does not manage.
pub struct NewUser {
    /// The user to write.
    pub user: NewScimUser,
    /// The tenant's adoption setting.
    pub adoption: Adoption,
}

/// What a create came to: the user written (or linked), or what the adoption setting decided
/// about the user SCIM does not manage that it matched.
pub type Created = Result<UserRow, OnCreate>;

/// The batched creates: concurrent creates of a tenant are written by one statement with their
/// events (see `user_create::insert_many_recorded`); each that the statement did not write (its
/// userName taken by a stored user or by an earlier create of the batch, a match with a user
/// SCIM does not manage, or a failed batch, though not an unavailable database, which answers
/// all 503 at once) is then done alone, as it would have been without
/// batching, so that it gets its own answer (a 409, the adoption setting's decision) and none
/// is answered before its row is committed.
pub type Creates = Arc<Batcher<NewUser, Result<Created, ScimError>>>;

fn creates(db: Db) -> Creates {
    Batcher::new(Arc::new(move |tenant, users: Vec<NewUser>| {
        let db = db.clone();
        Box::pin(async move {
            let users = Arc::new(users);
            if users.len() == 1 {
                return Ok(vec![alone(&db, tenant, &users, 0, create_one).await]);
            }
            let together = Arc::clone(&users);
            let written = db
                .run(tenant, move |conn| {
                    let rows: Vec<&NewScimUser> = together.iter().map(|new| &new.user).collect();
                    user_create::insert_many_recorded(conn, tenant, &rows)
                })
                .await;
            let mut written: HashMap<UserId, UserRow> = match written {
                Ok(rows) => rows.into_iter().map(|row| (row.id, row)).collect(),
                // Retried one by one, each would wait for the database again: all are told at
                // once to retry later.
                Err(tenancy::Error::Unavailable) => return Err(ScimError::unavailable()),
                Err(error) => {
                    tracing::warn!(%tenant, %error, size = users.len(), "a batch of creates failed: each is tried alone");
                    HashMap::new()
                }
            };
            let mut answers = Vec::with_capacity(users.len());
            for at in 0..users.len() {
                answers.push(match written.remove(&users[at].user.id) {
                    Some(row) => Ok(Ok(row)),
                    None => alone(&db, tenant, &users, at, create_one).await,
                });
            }
            Ok(answers)
        })
    }))
}

/// The request `requests[at]` done by itself, in its own unit of database work.
async fn alone<Req, T>(
    db: &Db,
    tenant: TenantId,
    requests: &Arc<Vec<Req>>,
    at: usize,
    work: fn(&mut PgConnection, TenantId, &Req) -> Result<T, ScimError>,
) -> Result<T, ScimError>
where
    Req: Send + Sync + 'static,
    T: Send + 'static,
{
    let requests = Arc::clone(requests);
    db.run(tenant, move |conn| match requests.get(at) {
        Some(request) => work(conn, tenant, request),
        None => Err(ScimError::internal()),
    })
    .await
}

/// A create done by itself: the one-row statement, then the adoption setting's decision when
/// the user matches one SCIM does not manage (in the same unit of work).
fn create_one(
    conn: &mut PgConnection,
    tenant: TenantId,
    new: &NewUser,
) -> Result<Created, ScimError> {
    let NewUser { user, adoption } = new;
    let created = users::insert_recorded(
        conn,
        tenant,
        user.id,
        &user.fields,
        UserSource::Scim,
        user.now,
        &user.events,
        user.match_email,
    )?;
    Ok(match created {
        Some(row) => Ok(row),
        None => match adoption::on_create(
            conn,
            tenant,
            *adoption,
            &user.fields,
            &user.events,
            user.now,
        )? {
            OnCreate::Linked(row) => Ok(*row),
            other => Err(other),
        },
    })
}

/// The batched path-less `active` PATCHes: concurrent ones of a tenant are written by one
/// statement (see `user_active::set_active_many_recorded`), one alone by the one-row statement.
/// `None` for a request means nothing was written (no such user, no change, or a second change
/// of a user already in the batch): it is then applied the general way, after the batch.
/// Should a batch fail, each of its changes is tried again alone, so that one bad change cannot
/// fail the others and none is answered without its row; when the database is unavailable (or
/// a lock wait timed out), all are answered 503 at once instead.
pub type ActiveChanges = Arc<Batcher<ActiveChange, Result<Option<UserWithGroups>, ScimError>>>;

fn active_changes(db: Db) -> ActiveChanges {
    Batcher::new(Arc::new(move |tenant, changes: Vec<ActiveChange>| {
        let db = db.clone();
        Box::pin(async move {
            let changes = Arc::new(changes);
            if changes.len() == 1 {
                return Ok(vec![alone(&db, tenant, &changes, 0, set_active).await]);
            }
            let together = Arc::clone(&changes);
            let written = db
                .run(tenant, move |conn| {
                    // A user once: a second change of the same user waits for the general way.
                    let mut seen = HashSet::new();
                    let rows: Vec<&ActiveChange> = together
                        .iter()
                        .filter(|change| seen.insert(change.id))
                        .collect();
                    user_active::set_active_many_recorded(conn, tenant, &rows)
                })
                .await;
            let mut written: HashMap<UserId, UserWithGroups> = match written {
                Ok(found) => found.into_iter().map(|found| (found.0.id, found)).collect(),
                Err(tenancy::Error::Unavailable) => return Err(ScimError::unavailable()),
                Err(error) => {
                    tracing::warn!(%tenant, %error, size = changes.len(), "a batch of active changes failed: each is tried alone");
                    let mut answers = Vec::with_capacity(changes.len());
                    for at in 0..changes.len() {
                        answers.push(alone(&db, tenant, &changes, at, set_active).await);
                    }
                    return Ok(answers);
                }
            };
            Ok(changes
                .iter()
                .map(|change| Ok(written.remove(&change.id)))
                .collect())
        })
    }))
}

/// A change written by itself (the one-row statement).
fn set_active(
    conn: &mut PgConnection,
    tenant: TenantId,
    change: &ActiveChange,
) -> Result<Option<UserWithGroups>, ScimError> {
    Ok(user_active::set_active_recorded(conn, tenant, change)?)
}
