//! The phases of issue 6 as [`Plan`]s: A create, B lookup, C deactivate, D list pages,
//! E member push (and the group read that counts them), F authentication alone, and a
//! `/healthz` baseline that F's authentication cost is measured against.

use std::collections::HashSet;

use serde_json::Value;

use crate::http::{Request, Response};
use crate::okta::{self, integer, json_body, text};
use crate::runner::Plan;

/// Page size of phase D (Okta's import).
pub const PAGE: usize = 100;

/// A: POST /Users for `count` new users named after `prefix`; hands back each new id.
pub struct Create {
    /// userName prefix, unique per concurrency level.
    pub prefix: String,
    /// Users to create.
    pub count: usize,
}

impl Plan for Create {
    fn len(&self) -> usize {
        self.count
    }

    fn request(&self, i: usize) -> Request {
        let name = okta::user_name(&self.prefix, i);
        Request {
            method: "POST",
            path: "/Users".into(),
            body: Some(okta::create_user_body(&name, i)),
        }
    }

    fn check(&self, i: usize, response: &Response) -> Result<Option<String>, String> {
        let user = json_body(response, 201)?;
        let id = okta::check_user(&user, &okta::user_name(&self.prefix, i), true)?;
        let location = text(&user, "/meta/location")?;
        if response.location.as_deref() != Some(location) {
            return Err("the Location header differs from meta.location".into());
        }
        Ok(Some(id))
    }
}

/// B: Okta's lookup by userName of each user A created.
pub struct Lookup {
    /// The prefix A used.
    pub prefix: String,
    /// `(index in A, id)` of each user A created.
    pub users: Vec<(usize, String)>,
}

impl Plan for Lookup {
    fn len(&self) -> usize {
        self.users.len()
    }

    fn request(&self, i: usize) -> Request {
        Request {
            method: "GET",
            path: okta::lookup_path(&okta::user_name(&self.prefix, self.users[i].0)),
            body: None,
        }
    }

    fn check(&self, i: usize, response: &Response) -> Result<Option<String>, String> {
        let list = json_body(response, 200)?;
        if !okta::has_schema(&list, okta::LIST_SCHEMA) {
            return Err("not a ListResponse".into());
        }
        if integer(&list, "/totalResults")? != 1 || integer(&list, "/itemsPerPage")? != 1 {
            return Err("expected exactly one result".into());
        }
        let user = list.pointer("/Resources/0").ok_or("no Resources[0]")?;
        let (index, created) = &self.users[i];
        let id = okta::check_user(user, &okta::user_name(&self.prefix, *index), true)?;
        if id != *created {
            return Err(format!("found {id}, created {created}"));
        }
        Ok(None)
    }
}

/// C: Okta's deactivation (PATCH, path-less replace of `active`) of each user A created.
pub struct Deactivate {
    /// The prefix A used.
    pub prefix: String,
    /// `(index in A, id)` of each user A created.
    pub users: Vec<(usize, String)>,
    /// The body, built once.
    pub body: String,
}

impl Plan for Deactivate {
    fn len(&self) -> usize {
        self.users.len()
    }

    fn request(&self, i: usize) -> Request {
        Request {
            method: "PATCH",
            path: format!("/Users/{}", self.users[i].1),
            body: Some(self.body.clone()),
        }
    }

    fn check(&self, i: usize, response: &Response) -> Result<Option<String>, String> {
        let user = json_body(response, 200)?;
        let (index, asked) = &self.users[i];
        let id = okta::check_user(&user, &okta::user_name(&self.prefix, *index), false)?;
        if id != *asked {
            return Err(format!("patched {id}, asked for {asked}"));
        }
        Ok(None)
    }
}

/// D: Okta's import, `GET /Users?startIndex=..&count=100` over every page, `passes` times.
pub struct Pages {
    /// Users in the tenant (the expected `totalResults`).
    pub total: usize,
    /// Complete walks.
    pub passes: usize,
}

impl Pages {
    /// Pages in one walk.
    pub fn pages(&self) -> usize {
        self.total.div_ceil(PAGE).max(1)
    }

    /// The page (0-based) the `i`th request reads.
    pub fn page_of(&self, i: usize) -> usize {
        i % self.pages()
    }
}

impl Plan for Pages {
    fn len(&self) -> usize {
        self.pages() * self.passes
    }

    fn request(&self, i: usize) -> Request {
        Request {
            method: "GET",
            path: format!(
                "/Users?startIndex={}&count={PAGE}",
                self.page_of(i) * PAGE + 1
            ),
            body: None,
        }
    }

    fn check(&self, i: usize, response: &Response) -> Result<Option<String>, String> {
        let list = json_body(response, 200)?;
        let start = self.page_of(i) * PAGE;
        let expected = PAGE.min(self.total.saturating_sub(start));
        let total = integer(&list, "/totalResults")?;
        if usize::try_from(total).ok() != Some(self.total) {
            return Err(format!("totalResults {total}, expected {}", self.total));
        }
        let resources = list
            .get("Resources")
            .and_then(Value::as_array)
            .ok_or("no Resources")?;
        if resources.len() != expected
            || integer(&list, "/itemsPerPage")? != i64::try_from(expected).unwrap_or(-1)
            || integer(&list, "/startIndex")? != i64::try_from(start + 1).unwrap_or(-1)
        {
            return Err(format!(
                "page at {}: {} resources, expected {expected}",
                start + 1,
                resources.len()
            ));
        }
        for user in resources {
            text(user, "/id")?;
            text(user, "/userName")?;
        }
        Ok(None)
    }
}

/// E: PATCH add members to one group, `PAGE` members per request.
pub struct AddMembers {
    /// The group.
    pub group: String,
    /// `(id, display)` of every member to add, in order.
    pub members: Vec<(String, String)>,
}

impl Plan for AddMembers {
    fn len(&self) -> usize {
        self.members.len().div_ceil(PAGE)
    }

    fn request(&self, i: usize) -> Request {
        let batch = &self.members[i * PAGE..((i + 1) * PAGE).min(self.members.len())];
        Request {
            method: "PATCH",
            path: format!("/Groups/{}", self.group),
            body: Some(okta::add_members_body(batch)),
        }
    }

    fn check(&self, _: usize, response: &Response) -> Result<Option<String>, String> {
        match response.status {
            204 => Ok(None),
            200 => json_body(response, 200).map(|_| None),
            other => Err(format!(
                "status {other}: {}",
                String::from_utf8_lossy(&response.body[..response.body.len().min(300)])
            )),
        }
    }
}

/// E, last step: GET the group and check that every member is there, once.
pub struct GroupMembers {
    /// The group.
    pub group: String,
    /// The ids that must be members.
    pub expected: HashSet<String>,
}

impl Plan for GroupMembers {
    fn len(&self) -> usize {
        1
    }

    fn request(&self, _: usize) -> Request {
        Request {
            method: "GET",
            path: format!("/Groups/{}", self.group),
            body: None,
        }
    }

    fn check(&self, _: usize, response: &Response) -> Result<Option<String>, String> {
        let group = json_body(response, 200)?;
        let members = group
            .get("members")
            .and_then(Value::as_array)
            .ok_or("no members")?;
        let ids: HashSet<&str> = members
            .iter()
            .filter_map(|m| m.get("value").and_then(Value::as_str))
            .collect();
        let missing = self
            .expected
            .iter()
            .filter(|id| !ids.contains(id.as_str()))
            .count();
        if members.len() != self.expected.len() || missing > 0 {
            return Err(format!(
                "{} members listed ({} distinct), {} expected, {missing} missing",
                members.len(),
                ids.len(),
                self.expected.len()
            ));
        }
        Ok(Some(members.len().to_string()))
    }
}

/// F: GET /ServiceProviderConfig (authentication and a constant document).
pub struct Config {
    /// Requests to send.
    pub count: usize,
}

impl Plan for Config {
    fn len(&self) -> usize {
        self.count
    }

    fn request(&self, _: usize) -> Request {
        Request {
            method: "GET",
            path: "/ServiceProviderConfig".into(),
            body: None,
        }
    }

    fn check(&self, _: usize, response: &Response) -> Result<Option<String>, String> {
        let config = json_body(response, 200)?;
        if !okta::has_schema(&config, okta::SPC_SCHEMA)
            || config.pointer("/patch/supported").and_then(Value::as_bool) != Some(true)
        {
            return Err("not the ServiceProviderConfig".into());
        }
        Ok(None)
    }
}

/// The baseline: GET /healthz (no authentication, no database), to subtract from F.
pub struct Health {
    /// Requests to send.
    pub count: usize,
}

impl Plan for Health {
    fn len(&self) -> usize {
        self.count
    }

    fn request(&self, _: usize) -> Request {
        Request {
            method: "GET",
            path: "/healthz".into(),
            body: None,
        }
    }

    fn check(&self, _: usize, response: &Response) -> Result<Option<String>, String> {
        if response.status == 200 && response.body == b"ok\n" {
            Ok(None)
        } else {
            Err(format!("/healthz answered {}", response.status))
        }
    }

    fn rooted(&self) -> bool {
        true
    }
}

/// Not measured: lookups of seeded members before a level, so that the server's connection
/// pool is open and its statements prepared, as pgbench's connections are before it times.
pub struct WarmUp {
    /// Requests to send.
    pub count: usize,
    /// How many members exist (`member-1` ... `member-<members>`).
    pub members: usize,
}

impl Plan for WarmUp {
    fn len(&self) -> usize {
        self.count
    }

    fn request(&self, i: usize) -> Request {
        Request {
            method: "GET",
            path: okta::lookup_path(&crate::seed::member_name(i % self.members.max(1) + 1)),
            body: None,
        }
    }

    fn check(&self, _: usize, response: &Response) -> Result<Option<String>, String> {
        json_body(response, 200).map(|_| None)
    }
}
