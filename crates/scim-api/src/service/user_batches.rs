//! The user work done in batches (see [`crate::batch`]): Okta's `userName eq` lookups, creates,
//! and path-less `active` PATCHes. Each batch is one unit of database work for one tenant; a
//! batch of one does exactly what the request would do alone.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tenancy::directory::user_active;
use tenancy::directory::user_create::{self, NewScimUser};
use tenancy::directory::user_lookup::{self, UserWithGroups};
use tenancy::directory::users::{self, UserFields, UserRow};
use tenancy::events::NewEvent;
use tenancy::safety::adoption::{self, Adoption, OnCreate};
use tenancy::stored::UserSource;
use tenancy::{Db, PgConnection, TenantId, UserId, transaction};

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

/// A `POST /Users`, as batched: the new user and the events of its 201.
pub struct NewUser {
    /// The new user's id.
    pub id: UserId,
    /// Its fields.
    pub fields: UserFields,
    /// When it was asked for.
    pub now: DateTime<Utc>,
    /// The events of its creation.
    pub events: Vec<NewEvent>,
    /// The tenant's adoption setting, for a match with a user SCIM does not manage.
    pub adoption: Adoption,
}

/// What a create came to: the user written (or linked), or what the adoption setting decided
/// about the user SCIM does not manage that it matched.
pub type Created = Result<UserRow, OnCreate>;

/// The batched creates: concurrent creates of a tenant are written by one statement with their
/// events (see `user_create::insert_many_recorded`); each that the statement did not write (its
/// userName taken by a stored user or by an earlier create of the batch, a match with a user
/// SCIM does not manage, or a failed batch) is then done alone, as it would have been without
/// batching, so that it gets its own answer (a 409, the adoption setting's decision) and none
/// is answered before its row is committed.
pub type Creates = Arc<Batcher<NewUser, Result<Created, ScimError>>>;

fn creates(db: Db) -> Creates {
    Batcher::new(Arc::new(move |tenant, users: Vec<NewUser>| {
        let db = db.clone();
        Box::pin(async move {
            let users = Arc::new(users);
            if users.len() == 1 {
                return Ok(vec![create_alone(&db, tenant, &users, 0).await]);
            }
            let together = Arc::clone(&users);
            let written = db
                .run(tenant, move |conn| {
                    let rows: Vec<NewScimUser<'_>> = together
                        .iter()
                        .map(|user| NewScimUser {
                            id: user.id,
                            fields: &user.fields,
                            now: user.now,
                            match_email: user.adoption != Adoption::Refuse,
                        })
                        .collect();
                    let events: Vec<&NewEvent> =
                        together.iter().flat_map(|user| &user.events).collect();
                    user_create::insert_many_recorded(conn, tenant, &rows, &events)
                })
                .await;
            let mut written: HashMap<UserId, UserRow> = match written {
                Ok(rows) => rows.into_iter().map(|row| (row.id, row)).collect(),
                Err(error) => {
                    tracing::warn!(%tenant, %error, size = users.len(), "a batch of creates failed: each is tried alone");
                    HashMap::new()
                }
            };
            let mut answers = Vec::with_capacity(users.len());
            for at in 0..users.len() {
                answers.push(match written.remove(&users[at].id) {
                    Some(row) => Ok(Ok(row)),
                    None => create_alone(&db, tenant, &users, at).await,
                });
            }
            Ok(answers)
        })
    }))
}

/// The create `users[at]` done by itself: the one-row statement, then the adoption setting's
/// decision when the user matches one SCIM does not manage (in the same unit of work).
async fn create_alone(
    db: &Db,
    tenant: TenantId,
    users: &Arc<Vec<NewUser>>,
    at: usize,
) -> Result<Created, ScimError> {
    let users = Arc::clone(users);
    db.run(tenant, move |conn| {
        let Some(user) = users.get(at) else {
            return Err(ScimError::internal());
        };
        let created = users::insert_recorded(
            conn,
            tenant,
            user.id,
            &user.fields,
            UserSource::Scim,
            user.now,
            &user.events,
            user.adoption != Adoption::Refuse,
        )?;
        Ok(match created {
            Some(row) => Ok(row),
            None => match adoption::on_create(
                conn,
                tenant,
                user.adoption,
                &user.fields,
                &user.events,
                user.now,
            )? {
                OnCreate::Linked(row) => Ok(*row),
                other => Err(other),
            },
        })
    })
    .await
}

/// A path-less `active` PATCH (Okta's and Entra's deactivation), as batched.
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

/// The batched path-less `active` PATCHes: concurrent ones of a tenant are written in one
/// transaction (one commit), each with its own statement and events. `None` for a request
/// means nothing was written (no such user, or no change): it is then applied the general way.
/// Should a batch's transaction fail, each of its changes is tried again alone, so that one bad
/// change cannot fail the others and none is answered without its row.
pub type ActiveChanges = Arc<Batcher<ActiveChange, Result<Option<UserWithGroups>, ScimError>>>;

fn active_changes(db: Db) -> ActiveChanges {
    Batcher::new(Arc::new(move |tenant, changes: Vec<ActiveChange>| {
        let db = db.clone();
        Box::pin(async move {
            let changes = Arc::new(changes);
            let together = Arc::clone(&changes);
            let batched = db
                .run(tenant, move |conn| {
                    let all = |conn: &mut PgConnection| {
                        together
                            .iter()
                            .map(|change| set_active(conn, tenant, change))
                            .collect::<Result<Vec<_>, tenancy::Error>>()
                    };
                    // One change is one statement, committed by itself: no BEGIN and COMMIT
                    // round trips around it.
                    if together.len() == 1 {
                        all(conn)
                    } else {
                        transaction(conn, all)
                    }
                })
                .await;
            match batched {
                Ok(done) => Ok(done.into_iter().map(Ok).collect()),
                Err(error) if changes.len() == 1 => Ok(vec![Err(ScimError::from(error))]),
                Err(error) => {
                    tracing::warn!(%tenant, %error, size = changes.len(), "a batch of active changes failed: each is tried alone");
                    let mut answers = Vec::with_capacity(changes.len());
                    for at in 0..changes.len() {
                        let changes = Arc::clone(&changes);
                        answers.push(
                            db.run(tenant, move |conn| set_active(conn, tenant, &changes[at]))
                                .await
                                .map_err(ScimError::from),
                        );
                    }
                    Ok(answers)
                }
            }
        })
    }))
}

fn set_active(
    conn: &mut PgConnection,
    tenant: TenantId,
    change: &ActiveChange,
) -> Result<Option<UserWithGroups>, tenancy::Error> {
    user_active::set_active_recorded(
        conn,
        tenant,
        change.id,
        change.active,
        change.now,
        &change.events,
        change.unmanaged_writable,
    )
}
