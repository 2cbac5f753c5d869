//! The names the activity log shows for the resources its events are about: a user's display
//! name and userName, a group's name, looked up for a page of events in two indexed reads.

use std::collections::HashMap;

use diesel::prelude::*;

use super::EventRow;
use crate::directory::users::{or_user_name, person_name};
use crate::error::Result;
use crate::ids::{GroupId, TenantId, UserId};
use crate::schema::{groups, users};

/// A resource that still exists, as the log names and links it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceName {
    /// A user: the name to show and the userName.
    User {
        /// The user.
        id: UserId,
        /// Display name, else given and family name, else the userName.
        name: String,
        /// The userName.
        user_name: String,
    },
    /// A group and its name.
    Group {
        /// The group.
        id: GroupId,
        /// Its displayName.
        name: String,
    },
}

/// A user's id, userName, display, given and family name.
type NamedUser = (
    UserId,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// The users and groups the `events` are about that still exist, by their SCIM id.
pub fn names(
    conn: &mut PgConnection,
    tenant: TenantId,
    events: &[EventRow],
) -> Result<HashMap<String, ResourceName>> {
    let ids = |kind: &str| -> Vec<uuid::Uuid> {
        let mut ids: Vec<uuid::Uuid> = events
            .iter()
            .filter(|e| e.resource_type.as_deref() == Some(kind))
            .filter_map(|e| e.resource_id.as_deref()?.parse().ok())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    };
    let mut found = HashMap::new();
    let user_ids: Vec<UserId> = ids("User").into_iter().map(UserId::from).collect();
    if !user_ids.is_empty() {
        let rows: Vec<NamedUser> = users::table
            .filter(users::tenant_id.eq(tenant))
            .filter(users::id.eq_any(user_ids))
            .select((
                users::id,
                users::user_name,
                users::display_name,
                users::given_name,
                users::family_name,
            ))
            .load(conn)?;
        for (id, user_name, display, given, family) in rows {
            let name = or_user_name(
                person_name(display.as_deref(), given.as_deref(), family.as_deref()),
                &user_name,
            );
            found.insert(
                id.to_string(),
                ResourceName::User {
                    id,
                    name,
                    user_name,
                },
            );
        }
    }
    let group_ids: Vec<GroupId> = ids("Group").into_iter().map(GroupId::from).collect();
    if !group_ids.is_empty() {
        let rows: Vec<(GroupId, String)> = groups::table
            .filter(groups::tenant_id.eq(tenant))
            .filter(groups::id.eq_any(group_ids))
            .select((groups::id, groups::display_name))
            .load(conn)?;
        for (id, name) in rows {
            found.insert(id.to_string(), ResourceName::Group { id, name });
        }
    }
    Ok(found)
}
