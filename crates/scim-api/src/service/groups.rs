//! Groups: create, read, list, replace, patch (members as set-based SQL), delete.

use std::collections::HashMap;

use chrono::Utc;
use scim_protocol::schema::ResourceKind;
use scim_protocol::{GroupMemberChange, apply, parse_patch_owned, split_group_ops};
use serde_json::Value;
use tenancy::directory::groups::{self, GroupRow, MemberRow};
use tenancy::directory::{Condition, Page, users};
use tenancy::{GroupId, PgConnection, TenantId, UserId, retrying, transaction};

use super::totals::total_for_page;
use super::{
    ScimState, Scope, Versioned, WriteLog, check_if_match, not_found, parse_id, projection,
};
use crate::error::ScimError;
use crate::protocol::list::{ListQuery, list_response};
use crate::protocol::projection::Projection;
use crate::protocol::resource::{
    etag, group_fields, members_from_value, normalize, parse_member_ids, patch_document,
    render_group, unknown_members,
};
use crate::query::{filter_sql, sort};

const KIND: ResourceKind = ResourceKind::Group;

/// POST /Groups: 201 with the new group and its members.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn create(
    state: &ScimState,
    scope: Scope,
    body: Value,
    log: WriteLog,
) -> Result<Versioned, ScimError> {
    let tenant = scope.directory;
    let (doc, members) = normalize(KIND, body, None)?;
    let fields = group_fields(doc)?;
    let members = parse_member_ids(&members_from_value(members)?)?;
    let now = Utc::now();
    let (row, members) = state
        .db
        .run(tenant, move |conn| {
            transaction(conn, |conn| {
                check_members_exist(conn, tenant, &members)?;
                let row = groups::insert(conn, tenant, &fields, now)?;
                groups::add_members(conn, tenant, row.id, &members)?;
                log.record(conn, 201, row.id.to_string())?;
                let members = groups::members_of(conn, tenant, &[row.id])?;
                Ok::<_, ScimError>((row, members))
            })
        })
        .await?;
    state.totals.forget(tenant, KIND);
    // The default projection leaves out what is returned on request only (members.display).
    Ok(versioned(
        &row,
        Some(&members),
        state,
        scope.public,
        &Projection::new(KIND, &[], &[]),
    ))
}

/// GET /Groups/{id}; with `excludedAttributes=members` the members are not loaded.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn get(
    state: &ScimState,
    scope: Scope,
    raw_id: &str,
    query: &ListQuery,
) -> Result<Versioned, ScimError> {
    let tenant = scope.directory;
    let id: GroupId = parse_id(KIND, raw_id)?;
    let projection = projection(KIND, query);
    let with_members = projection.wants("members");
    let raw = raw_id.to_owned();
    let (row, members) = state
        .db
        .run(tenant, move |conn| {
            let row = groups::find(conn, tenant, id)?.ok_or_else(|| not_found(KIND, &raw))?;
            let members = if with_members {
                Some(groups::members_of(conn, tenant, &[id])?)
            } else {
                None
            };
            Ok::<_, ScimError>((row, members))
        })
        .await?;
    Ok(versioned(
        &row,
        members.as_deref(),
        state,
        scope.public,
        &projection,
    ))
}

/// GET /Groups with filter (Okta finds groups with `displayName eq "…"`), paging and projection.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn list(state: &ScimState, scope: Scope, query: &ListQuery) -> Result<Value, ScimError> {
    let tenant = scope.directory;
    let condition = match &query.filter {
        Some(filter) => filter_sql::condition(KIND, filter)?,
        None => Condition::always(),
    };
    let page = Page {
        offset: query.start_index - 1,
        limit: query.count,
        order_by: sort::order_by(KIND, query.sort_by.as_deref())?,
        descending: query.descending,
    };
    let projection = projection(KIND, query);
    let with_members = projection.wants("members");
    let unfiltered = condition.is_always();
    let cached_total = if unfiltered {
        state.totals.get(tenant, KIND)
    } else {
        None
    };
    let (rows, members, total) = state
        .db
        .run(tenant, move |conn| {
            let rows = if page.limit > 0 {
                groups::list(conn, tenant, &condition, &page)?
            } else {
                Vec::new()
            };
            let total = total_for_page(&page, rows.len(), cached_total, || {
                groups::count(conn, tenant, &condition)
            })?;
            let ids: Vec<GroupId> = rows.iter().map(|r| r.id).collect();
            let members = if with_members {
                groups::members_of(conn, tenant, &ids)?
            } else {
                Vec::new()
            };
            Ok::<_, ScimError>((rows, members, total))
        })
        .await?;
    if unfiltered {
        state.totals.put(tenant, KIND, total);
    }
    let mut by_group: HashMap<GroupId, Vec<MemberRow>> = HashMap::new();
    for member in members {
        by_group.entry(member.group_id).or_default().push(member);
    }
    let locations = state.locations(scope.public);
    let resources = rows
        .iter()
        .map(|row| {
            let members =
                with_members.then(|| by_group.get(&row.id).map_or(&[][..], Vec::as_slice));
            projection.apply(render_group(row, members, &locations))
        })
        .collect();
    Ok(list_response(total, query.start_index, resources))
}

/// PUT /Groups/{id}: replaces name, attributes and the whole member list.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn replace(
    state: &ScimState,
    scope: Scope,
    raw_id: &str,
    body: Value,
    if_match: Option<String>,
    log: WriteLog,
) -> Result<Versioned, ScimError> {
    let tenant = scope.directory;
    let id: GroupId = parse_id(KIND, raw_id)?;
    let (doc, members) = normalize(KIND, body, Some(raw_id))?;
    let fields = group_fields(doc)?;
    let members = members
        .map(|m| members_from_value(Some(m)).and_then(|ids| parse_member_ids(&ids)))
        .transpose()?;
    let raw = raw_id.to_owned();
    let now = Utc::now();
    let (row, members) = state
        .db
        .run(tenant, move |conn| {
            // Should a conflict with concurrent work still end in a deadlock (a DELETE of the
            // group, say), the loser is run again rather than answered 503.
            retrying(conn, |conn| {
                let current = lock(conn, tenant, id, &raw)?;
                check_if_match(if_match.as_deref(), &etag(current.version))?;
                if let Some(members) = &members {
                    check_members_exist(conn, tenant, members)?;
                    groups::clear_members(conn, tenant, id)?;
                    groups::add_members(conn, tenant, id, members)?;
                }
                let row = groups::update(conn, tenant, id, current.version, &fields, now)?;
                log.record(conn, 200, raw.clone())?;
                let members = groups::members_of(conn, tenant, &[id])?;
                Ok::<_, ScimError>((row, members))
            })
        })
        .await?;
    // The default projection leaves out what is returned on request only (members.display).
    Ok(versioned(
        &row,
        Some(&members),
        state,
        scope.public,
        &Projection::new(KIND, &[], &[]),
    ))
}

/// The answer for `row` with `members`, projected, with the row's version.
fn versioned(
    row: &GroupRow,
    members: Option<&[MemberRow]>,
    state: &ScimState,
    public: TenantId,
    projection: &Projection,
) -> Versioned {
    let locations = state.locations(public);
    let body = projection.apply(render_group(row, members, &locations));
    Versioned::new(body, row.version, KIND, &row.id.to_string(), &locations)
}

/// PATCH /Groups/{id}: member changes run as set-based SQL, other operations go through the
/// PATCH engine. Answers 204: re-sending thousands of members after every batch helps no one.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn patch(
    state: &ScimState,
    scope: Scope,
    raw_id: &str,
    body: Value,
    if_match: Option<String>,
    log: WriteLog,
) -> Result<(), ScimError> {
    let tenant = scope.directory;
    let id: GroupId = parse_id(KIND, raw_id)?;
    let (changes, other_ops) = split_group_ops(parse_patch_owned(body)?)?;
    let changes = changes
        .into_iter()
        .map(|change| {
            Ok(match change {
                GroupMemberChange::Add(ids) => MemberChange::Add(parse_member_ids(&ids)?),
                GroupMemberChange::Remove(ids) => MemberChange::Remove(parse_removed_ids(&ids)),
                GroupMemberChange::Replace(ids) => MemberChange::Replace(parse_member_ids(&ids)?),
            })
        })
        .collect::<Result<Vec<_>, ScimError>>()?;
    let raw = raw_id.to_owned();
    let now = Utc::now();
    state
        .db
        .run(tenant, move |conn| {
            // Should a conflict with concurrent work still end in a deadlock (a DELETE of the
            // group, say), the loser is run again rather than answered 503.
            retrying(conn, |conn| {
                // A rename rewrites the row, and If-Match must hold until the commit: lock it
                // first. So does a change that deletes member rows (replace, remove): a PUT
                // locks the group and then deletes its members, and the reverse order here
                // would deadlock with it. Additions alone lock it last, as briefly as possible.
                let adds_only = changes.iter().all(|c| matches!(c, MemberChange::Add(_)));
                let current = if other_ops.is_empty() && if_match.is_none() && adds_only {
                    find(conn, tenant, id, &raw)?
                } else {
                    lock(conn, tenant, id, &raw)?
                };
                check_if_match(if_match.as_deref(), &etag(current.version))?;
                let added: Vec<UserId> = changes
                    .iter()
                    .flat_map(|c| match c {
                        MemberChange::Add(ids) | MemberChange::Replace(ids) => ids.clone(),
                        MemberChange::Remove(_) => Vec::new(),
                    })
                    .collect();
                check_members_exist(conn, tenant, &added)?;
                for change in &changes {
                    match change {
                        MemberChange::Add(ids) => {
                            groups::add_members(conn, tenant, id, ids)?;
                        }
                        MemberChange::Remove(ids) => {
                            groups::remove_members(conn, tenant, id, ids)?;
                        }
                        MemberChange::Replace(ids) => {
                            groups::clear_members(conn, tenant, id)?;
                            groups::add_members(conn, tenant, id, ids)?;
                        }
                    }
                }
                if other_ops.is_empty() {
                    // Last statement before commit: the group's row lock is held only briefly.
                    groups::touch(conn, tenant, id, now)?;
                } else {
                    let mut doc = patch_document(&current.attributes, &raw);
                    if let Some(map) = doc.as_object_mut() {
                        map.insert(
                            "displayName".into(),
                            Value::String(current.display_name.clone()),
                        );
                    }
                    apply(&mut doc, KIND, &other_ops)?;
                    if let Some(map) = doc.as_object_mut() {
                        map.remove("id");
                    }
                    groups::update(conn, tenant, id, current.version, &group_fields(doc)?, now)?;
                }
                log.record(conn, 204, raw.clone())?;
                Ok::<_, ScimError>(())
            })
        })
        .await
}

/// DELETE /Groups/{id}.
#[tracing::instrument(level = "debug", skip_all, fields(tenant_id = %scope.directory))]
pub async fn delete(
    state: &ScimState,
    scope: Scope,
    raw_id: &str,
    if_match: Option<String>,
    log: WriteLog,
) -> Result<(), ScimError> {
    let tenant = scope.directory;
    let id: GroupId = parse_id(KIND, raw_id)?;
    let raw = raw_id.to_owned();
    state
        .db
        .run(tenant, move |conn| {
            transaction(conn, |conn| {
                let current = lock(conn, tenant, id, &raw)?;
                check_if_match(if_match.as_deref(), &etag(current.version))?;
                groups::delete(conn, tenant, id)?;
                log.record(conn, 204, raw.clone())?;
                Ok::<_, ScimError>(())
            })
        })
        .await?;
    state.totals.forget(tenant, KIND);
    Ok(())
}

/// A member change with parsed ids.
enum MemberChange {
    Add(Vec<UserId>),
    Remove(Vec<UserId>),
    Replace(Vec<UserId>),
}

/// Ids to remove: one that is not a UUID cannot be a member, so there is nothing to remove.
fn parse_removed_ids(ids: &[String]) -> Vec<UserId> {
    ids.iter().filter_map(|id| id.parse().ok()).collect()
}

fn find(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: GroupId,
    raw: &str,
) -> Result<GroupRow, ScimError> {
    groups::find(conn, tenant, id)?.ok_or_else(|| not_found(KIND, raw))
}

fn lock(
    conn: &mut PgConnection,
    tenant: TenantId,
    id: GroupId,
    raw: &str,
) -> Result<GroupRow, ScimError> {
    groups::find_for_update(conn, tenant, id)?.ok_or_else(|| not_found(KIND, raw))
}

/// Every id must be a user of this tenant; otherwise nothing is applied.
fn check_members_exist(
    conn: &mut PgConnection,
    tenant: TenantId,
    members: &[UserId],
) -> Result<(), ScimError> {
    if members.is_empty() {
        return Ok(());
    }
    let existing = users::existing_ids(conn, tenant, members)?;
    if existing.len() == members.len() {
        return Ok(());
    }
    let existing: std::collections::HashSet<UserId> = existing.into_iter().collect();
    let missing: Vec<String> = members
        .iter()
        .filter(|id| !existing.contains(id))
        .map(ToString::to_string)
        .collect();
    if missing.is_empty() {
        // Duplicates in the request, all of which exist.
        return Ok(());
    }
    let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
    Err(unknown_members(&missing))
}
