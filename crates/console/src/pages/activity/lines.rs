//! How the activity log shows one event: what it did in words, the resource it was about by
//! name and link, its time to the second with how long ago, and its outcome.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use tenancy::events::{EventRow, ResourceName};
use tenancy::stored::EventOperation;

use crate::layout::{ago, time_seconds};

/// An event as listed.
pub struct EventLine {
    /// Sequence number (its page).
    pub id: i64,
    /// Time to the second.
    pub at: String,
    /// RFC 3339, for `<time datetime>`.
    pub at_iso: String,
    /// How long ago.
    pub ago: String,
    /// What it did, in words.
    pub operation: String,
    /// The resource's name (or what the request called it).
    pub resource: String,
    /// A second line under the name: the userName, or why there is no link.
    pub resource_note: String,
    /// The resource's console page, when it still exists.
    pub resource_link: Option<String>,
    /// HTTP status answered.
    pub status: i16,
    /// Whether it failed.
    pub failed: bool,
    /// Time to answer, in words.
    pub duration: String,
    /// The error in plain words.
    pub error: String,
    /// Sent by the console's Test the connection, not by the identity provider.
    pub self_test: bool,
}

/// The line of `event`, naming its resource from `names` (see [`tenancy::events::names`]).
pub fn event_line(
    event: &EventRow,
    names: &HashMap<String, ResourceName>,
    now: DateTime<Utc>,
) -> EventLine {
    let named = event.resource_id.as_ref().and_then(|id| names.get(id));
    let (resource, resource_note, resource_link) = match named {
        Some(ResourceName::User {
            id,
            name,
            user_name,
        }) => (
            name.clone(),
            if name == user_name {
                String::new()
            } else {
                user_name.clone()
            },
            Some(format!("/console/users/{id}")),
        ),
        Some(ResourceName::Group { id, name }) => (
            name.clone(),
            String::new(),
            Some(format!("/console/groups/{id}")),
        ),
        None => unnamed(event),
    };
    EventLine {
        id: event.id,
        at: time_seconds(event.occurred_at),
        at_iso: event.occurred_at.to_rfc3339(),
        ago: ago(event.occurred_at, now),
        operation: operation_words(event),
        resource,
        resource_note,
        resource_link,
        status: event.status,
        failed: event.status >= 400,
        duration: duration(event.duration_us),
        error: event.error.clone().unwrap_or_default(),
        self_test: false,
    }
}

/// A resource that is not (or no longer) in the directory: named by what the request carried.
fn unnamed(event: &EventRow) -> (String, String, Option<String>) {
    let kind = event.resource_type.as_deref().unwrap_or_default();
    let noun = noun(kind);
    match (&event.subject, &event.resource_id) {
        (Some(subject), Some(_)) if kind == "User" || kind == "Group" => (
            subject.clone(),
            format!("No longer in the directory ({noun})"),
            None,
        ),
        (Some(subject), _) => (subject.clone(), String::new(), None),
        (None, Some(id)) if kind == "User" || kind == "Group" => (
            format!("{} {id}", capitalised(noun)),
            "Not in the directory".to_owned(),
            None,
        ),
        (None, Some(id)) => (format!("{kind} {id}"), String::new(), None),
        // A list or search of users or groups is about no one resource.
        (None, None) if kind == "User" || kind == "Group" => (String::new(), String::new(), None),
        (None, None) => (kind.to_owned(), String::new(), None),
    }
}

fn noun(kind: &str) -> &str {
    match kind {
        "User" => "user",
        "Group" => "group",
        "" => "resource",
        other => other,
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// What the request did, in words ("Deactivate user", "Change group members").
pub fn operation_words(event: &EventRow) -> String {
    let kind = event.resource_type.as_deref().unwrap_or_default();
    let noun = noun(kind);
    match event.operation {
        EventOperation::Create => format!("Create {noun}"),
        EventOperation::Update if event.method == "PUT" => format!("Replace {noun}"),
        EventOperation::Update => format!("Update {noun}"),
        EventOperation::Deactivate => "Deactivate user".to_owned(),
        EventOperation::Reactivate => "Reactivate user".to_owned(),
        EventOperation::Delete => format!("Delete {noun}"),
        EventOperation::Membership => "Change group members".to_owned(),
        EventOperation::Lookup if event.resource_id.is_some() => format!("Read {noun}"),
        EventOperation::Lookup if event.subject.is_some() || event.path.contains("filter") => {
            format!("Look up {noun}")
        }
        EventOperation::Lookup => format!("List {noun}s"),
        EventOperation::Discovery => format!("Read {kind}"),
        // The console's own actions carry their words as the path.
        EventOperation::Admin => event.path.clone(),
    }
}

/// The Operation filter's choices: (value in the URL, label).
pub const OPERATION_CHOICES: &[(&str, &str)] = &[
    ("create", "Create"),
    ("update", "Update"),
    ("deactivate", "Deactivate"),
    ("reactivate", "Reactivate"),
    ("delete", "Delete"),
    ("lookup", "Lookup or search"),
    ("membership", "Group membership change"),
    ("discovery", "Discovery"),
    ("admin", "Admin action in the console"),
    ("rejected", "Rejected (wrong or missing token)"),
];

/// A duration in words.
pub fn duration(us: i64) -> String {
    if us < 1_000 {
        format!("{us} µs")
    } else {
        format!("{:.1} ms", us as f64 / 1000.0)
    }
}
