//! Users: create, read, list, replace, patch, delete.

use std::collections::HashMap;

use chrono::Utc;
use scim_protocol::schema::ResourceKind;
use scim_protocol::{apply, parse_patch_owned, sets_only_active};
use serde_json::Value;
use tenancy::directory::users::{self, UserRow};
use tenancy::directory::{Condition, Page, user_lookup};
use tenancy::safety::adoption::{Adoption, MatchedOn, OnCreate};
use tenancy::stored::UserSource;
use tenancy::{GroupId, PgConnection, TenantId, UserId, transaction};

use super::totals::total_for_page;
use super::user_batches::NewUser;
use super::{
    ScimState, Scope, Versioned, WriteLog, check_if_match, not_found, parse_id, projection,
};
use crate::error::ScimError;
use crate::protocol::list::{ListQuery, list_response};
use crate::protocol::resource::{
    etag, normalize, patch_document, render_user, user_fields, with_active_column,
};
use crate::query::{filter_sql, sort};
use tenancy::directory::user_active::ActiveChange;
use tenancy::directory::user_create::NewScimUser;

const KIND: ResourceKind = ResourceKind::User;

/// POST /Users: 201 with the new user, or with an existing user SCIM did not manage that the
/// tenant links automatically; 409 when the tenant reviews or refuses such a match.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn create(
    state: &ScimState,
    scope: Scope,
    body: Value,
    log: WriteLog,
) -> Result<Versioned, ScimError> {
    let Scope {
        directory: tenant,
        adoption,
        ..
    } = scope;
    let (doc, _) = normalize(KIND, body, None)?;
    let fields = user_fields(doc)?;
    let id = UserId::new_random();
    // Concurrent creates of the tenant are written together (see `user_batches::creates`).
    let outcome = state
        .batches
        .creates
        .submit(
            tenant,
            NewUser {
                user: NewScimUser {
                    id,
                    fields,
                    now: Utc::now(),
                    events: log.events(201, id.to_string()),
                    match_email: adoption != Adoption::Refuse,
                },
                adoption,
            },
        )
        .await??;
    let row = match outcome {
        Ok(row) => row,
        Err(OnCreate::Linked(row)) => *row,
        Err(OnCreate::Held(matched_on)) => {
            let what = match matched_on {
                MatchedOn::UserName => "userName",
                MatchedOn::Email => "e-mail address",
            };
            return Err(ScimError::uniqueness(format!(
                "A user with this {what} already exists and is not managed by SCIM: an admin of the \
                 tenant must review the match in the console (User and Group Sync > Provisioning \
                 safety) before it is linked; retry after that."
            )));
        }
        Err(OnCreate::KeptSeparate) => {
            return Err(ScimError::uniqueness(
                "This userName belongs to a user that an admin chose to keep separate from the \
                 identity provider: use another userName, or ask the admin to link them.",
            ));
        }
        Err(OnCreate::Refused) => {
            return Err(ScimError::uniqueness(
                "A user with this userName already exists and is not managed by SCIM, and the \
                 tenant does not link such users: change the userName, or ask the admin to \
                 change the adoption setting.",
            ));
        }
        Err(OnCreate::Gone) => return Err(ScimError::unavailable()),
    };
    state.totals.forget(tenant, KIND);
    Ok(versioned(row, &[], state, scope.public, None))
}

/// Whether SCIM sees `row` under the tenant's adoption setting: a user SCIM does not manage
/// only when the tenant links automatically (otherwise it waits for an admin, or never).
fn visible(adoption: Adoption, row: &UserRow) -> bool {
    row.source == UserSource::Scim || adoption == Adoption::Link
}

/// GET /Users/{id}.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn get(
    state: &ScimState,
    scope: Scope,
    raw_id: &str,
    query: &ListQuery,
) -> Result<Versioned, ScimError> {
    let Scope {
        directory: tenant,
        adoption,
        ..
    } = scope;
    let id: UserId = parse_id(KIND, raw_id)?;
    let projection = projection(KIND, query);
    let with_groups = projection.wants("groups");
    let raw = raw_id.to_owned();
    let (row, groups) = state
        .db
        .run(tenant, move |conn| {
            if with_groups {
                user_lookup::find_with_groups(conn, tenant, id)?
            } else {
                users::find(conn, tenant, id)?.map(|row| (row, Vec::new()))
            }
            .filter(|(row, _)| visible(adoption, row))
            .ok_or_else(|| not_found(KIND, &raw))
        })
        .await?;
    Ok(versioned(
        row,
        &groups,
        state,
        scope.public,
        Some(&projection),
    ))
}

/// GET /Users with filter, paging, sorting and projection.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn list(state: &ScimState, scope: Scope, query: &ListQuery) -> Result<Value, ScimError> {
    let Scope {
        directory: tenant,
        adoption,
        ..
    } = scope;
    let condition = match &query.filter {
        Some(filter) => filter_sql::condition(KIND, filter)?,
        None => Condition::always(),
    };
    // The cached total of an unfiltered list is the same list every time under one setting.
    let unfiltered = condition.is_always();
    let condition = if adoption == Adoption::Link {
        condition
    } else {
        // Users SCIM does not manage wait for an admin's review (or are never linked).
        Condition {
            sql: format!("({}) AND u.source = 'scim'", condition.sql),
            binds: condition.binds,
        }
    };
    let page = Page {
        offset: query.start_index - 1,
        limit: query.count,
        order_by: sort::order_by(KIND, query.sort_by.as_deref())?,
        descending: query.descending,
    };
    let projection = projection(KIND, query);
    let with_groups = projection.wants("groups");
    let cached_total = if unfiltered {
        state.totals.get(tenant, KIND)
    } else {
        None
    };
    let (rows, groups, total) = if let Some(user_name) = user_name_equals(query.filter.as_ref()) {
        // Okta's lookup before every create: at most one user, by the unique index, with the
        // user's groups in the same row and no count; concurrent lookups of the tenant are
        // answered together by one query.
        let found = state
            .batches
            .lookups
            .submit(tenant, user_name)
            .await?
            .map(|(row, groups)| (row, if with_groups { groups } else { Vec::new() }))
            .filter(|(row, _)| visible(adoption, row));
        let total = i64::from(found.is_some());
        let (rows, groups) = found
            .filter(|_| page.offset == 0 && page.limit > 0)
            .map(|(row, groups)| {
                let memberships = groups
                    .into_iter()
                    .map(|(group, name)| (row.id, group, name))
                    .collect();
                (vec![row], memberships)
            })
            .unwrap_or_default();
        (rows, groups, total)
    } else {
        listed(state, tenant, condition, page, with_groups, cached_total).await?
    };
    if unfiltered {
        state.totals.put(tenant, KIND, total);
    }
    let mut by_user: HashMap<UserId, Vec<(GroupId, String)>> = HashMap::new();
    for (user, group, name) in groups {
        by_user.entry(user).or_default().push((group, name));
    }
    let locations = state.locations(scope.public);
    let resources = rows
        .into_iter()
        .map(|row| {
            let groups = by_user.remove(&row.id).unwrap_or_default();
            projection.apply(render_user(row, &groups, &locations))
        })
        .collect();
    Ok(list_response(total, query.start_index, resources))
}

/// A page of the users `condition` selects, with their groups when wanted, and the total.
async fn listed(
    state: &ScimState,
    tenant: TenantId,
    condition: Condition,
    page: Page,
    with_groups: bool,
    cached_total: Option<i64>,
) -> Result<Listed, ScimError> {
    state
        .db
        .run(tenant, move |conn| {
            let rows = if page.limit > 0 {
                users::list(conn, tenant, &condition, &page)?
            } else {
                Vec::new()
            };
            let total = total_for_page(&page, rows.len(), cached_total, || {
                users::count(conn, tenant, &condition)
            })?;
            let ids: Vec<UserId> = rows.iter().map(|r| r.id).collect();
            let groups = if with_groups {
                users::groups_of(conn, tenant, &ids)?
            } else {
                Vec::new()
            };
            Ok::<_, ScimError>((rows, groups, total))
        })
        .await
}

/// Rows of a list, their memberships (user, group, group name) and the total.
type Listed = (Vec<UserRow>, Vec<(UserId, GroupId, String)>, i64);

/// PUT /Users/{id}: replaces the whole user.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn replace(
    state: &ScimState,
    scope: Scope,
    raw_id: &str,
    body: Value,
    if_match: Option<String>,
    log: WriteLog,
) -> Result<Versioned, ScimError> {
    let Scope {
        directory: tenant,
        adoption,
        ..
    } = scope;
    let id: UserId = parse_id(KIND, raw_id)?;
    let (doc, _) = normalize(KIND, body, Some(raw_id))?;
    let fields = user_fields(doc)?;
    let raw = raw_id.to_owned();
    let now = Utc::now();
    let (row, groups) = state
        .db
        .run(tenant, move |conn| {
            write(
                conn,
                Target {
                    tenant,
                    adoption,
                    id,
                    raw: &raw,
                },
                if_match.as_deref(),
                &log,
                now,
                |_| Ok(fields.clone()),
            )
        })
        .await?;
    Ok(versioned(row, &groups, state, scope.public, None))
}

/// PATCH /Users/{id}: RFC 7644 §3.5.2 operations, all or nothing.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn patch(
    state: &ScimState,
    scope: Scope,
    raw_id: &str,
    body: Value,
    if_match: Option<String>,
    log: WriteLog,
) -> Result<Versioned, ScimError> {
    let Scope {
        directory: tenant,
        adoption,
        ..
    } = scope;
    let id: UserId = parse_id(KIND, raw_id)?;
    let ops = parse_patch_owned(body)?;
    // Okta's and Entra's deactivations need not read the user first (not with If-Match, whose
    // version must be compared before anything is written).
    let only_active = sets_only_active(&ops).filter(|_| if_match.is_none());
    let raw = raw_id.to_owned();
    let now = Utc::now();
    if let Some(active) = only_active {
        let change = ActiveChange {
            id,
            active,
            now,
            events: log.events(200, raw.clone()),
            unmanaged_writable: adoption == Adoption::Link,
        };
        if let Some((row, groups)) = state
            .batches
            .active_changes
            .submit(tenant, change)
            .await??
        {
            return Ok(versioned(row, &groups, state, scope.public, None));
        }
    }
    let (row, groups) = state
        .db
        .run(tenant, move |conn| {
            write(
                conn,
                Target {
                    tenant,
                    adoption,
                    id,
                    raw: &raw,
                },
                if_match.as_deref(),
                &log,
                now,
                |current| {
                    let mut doc = patch_document(&current.attributes, &raw);
                    if let Some(map) = doc.as_object_mut() {
                        with_active_column(map, current.active);
                    }
                    apply(&mut doc, KIND, &ops)?;
                    if let Some(map) = doc.as_object_mut() {
                        map.remove("id");
                    }
                    user_fields(doc)
                },
            )
        })
        .await?;
    Ok(versioned(row, &groups, state, scope.public, None))
}

/// The answer for `row`: rendered, projected when asked, with the row's version.
fn versioned(
    row: UserRow,
    groups: &[(GroupId, String)],
    state: &ScimState,
    public: TenantId,
    projection: Option<&crate::protocol::projection::Projection>,
) -> Versioned {
    let (id, version) = (row.id.to_string(), row.version);
    let locations = state.locations(public);
    let body = render_user(row, groups, &locations);
    let body = match projection {
        Some(projection) => projection.apply(body),
        None => body,
    };
    Versioned::new(body, version, KIND, &id, &locations)
}

/// DELETE /Users/{id}: the user leaves the directory at once (SCIM, sign-in, cards and
/// sessions no longer know it, and its userName is free) and is kept for restoring until its
/// tenant's retention for deleted users passes.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn delete(
    state: &ScimState,
    scope: Scope,
    raw_id: &str,
    if_match: Option<String>,
    log: WriteLog,
) -> Result<(), ScimError> {
    let Scope {
        directory: tenant,
        adoption,
        ..
    } = scope;
    let id: UserId = parse_id(KIND, raw_id)?;
    let raw = raw_id.to_owned();
    state
        .db
        .run(tenant, move |conn| {
            transaction(conn, |conn| {
                let current = lock(conn, tenant, id, &raw)?;
                if !visible(adoption, &current) {
                    return Err(not_found(KIND, &raw));
                }
                check_if_match(if_match.as_deref(), &etag(current.version))?;
                tenancy::safety::deleted::delete(conn, tenant, id, "scim", Utc::now())?;
                log.record(conn, 204, raw.clone())?;
                Ok::<_, ScimError>(())
            })
        })
        .await?;
    state.totals.forget(tenant, KIND);
    Ok(())
}

/// The userName of a filter that is exactly `userName eq "…"` (any case, optionally with the
/// core schema URN), the shape of Okta's and Entra's lookups.
fn user_name_equals(filter: Option<&scim_protocol::Filter>) -> Option<String> {
    use scim_protocol::{CompValue, CompareOp, Filter, find_attribute};
    let Some(Filter::Compare {
        path,
        op: CompareOp::Eq,
        value: CompValue::Str(value),
    }) = filter
    else {
        return None;
    };
    let resolved = find_attribute(KIND, path)?;
    (resolved.name() == "userName" && resolved.sub_name().is_none() && !resolved.is_extension())
        .then(|| value.clone())
}

/// The user a write addresses, under the tenant's adoption setting.
#[derive(Clone, Copy)]
struct Target<'a> {
    tenant: TenantId,
    adoption: Adoption,
    id: UserId,
    raw: &'a str,
}

/// Attempts of an optimistic write before giving up on a user that keeps changing.
const WRITE_ATTEMPTS: usize = 5;

/// Replaces a user's fields with what `change` computes from the current row, optimistically:
/// read, compute, then write only if the version is unchanged (the write, the end of sessions on
/// deactivation and the event are one statement). A concurrent write makes it read and compute
/// again; with `If-Match`, the client's version must be the current one throughout.
fn write(
    conn: &mut PgConnection,
    target: Target<'_>,
    if_match: Option<&str>,
    log: &WriteLog,
    now: chrono::DateTime<Utc>,
    change: impl Fn(&UserRow) -> Result<users::UserFields, ScimError>,
) -> Result<(UserRow, Vec<(GroupId, String)>), ScimError> {
    let Target {
        tenant,
        adoption,
        id,
        raw,
    } = target;
    for _ in 0..WRITE_ATTEMPTS {
        // The groups cannot change through a user write, so they are read with the user.
        let (current, groups) = user_lookup::find_with_groups(conn, tenant, id)?
            .filter(|(row, _)| visible(adoption, row))
            .ok_or_else(|| not_found(KIND, raw))?;
        check_if_match(if_match, &etag(current.version))?;
        let fields = change(&current)?;
        let row = if fields == users::UserFields::of(&current) {
            // Nothing changes: no new version, but the request is still recorded.
            log.record(conn, 200, raw.to_owned())?;
            current
        } else {
            match users::update_recorded(
                conn,
                tenant,
                &current,
                &fields,
                now,
                &log.events(200, raw.to_owned()),
            )? {
                Some(row) => row,
                None => continue,
            }
        };
        return Ok((row, groups));
    }
    Err(ScimError::precondition_failed(
        "The user is being changed by other requests; retry shortly.",
    ))
}

fn lock(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: UserId,
    raw: &str,
) -> Result<UserRow, ScimError> {
    users::find_for_update(conn, tenant, id).map_err(|e| match e {
        tenancy::Error::NotFound => not_found(KIND, raw),
        other => other.into(),
    })
}
