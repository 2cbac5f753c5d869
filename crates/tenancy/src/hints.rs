//! Configuration hints from the last 7 days of real traffic: the patterns that mean the identity
//! provider is set up in a way that will bite (creates that collide, ids that no longer exist,
//! replaces without `active`, refused tokens, refused filters), each with the fix in the
//! identity provider's words and a link to the requests behind it. Read in three small queries:
//! the failures through their partial index, the newest replaces, and the refusal counts.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, SmallInt, Text, Timestamptz, Uuid};
use serde::Serialize;

use crate::error::Result;
use crate::ids::TenantId;
use crate::rejections;
use crate::stored::RejectionReason;

/// How far back the hints look.
pub const HINT_WINDOW: Duration = Duration::days(7);
/// Creates refused as duplicates before they make a hint (one can be a race).
pub const DUPLICATE_CREATES: i64 = 3;
/// Replaces examined for a missing `active`: the newest this many.
pub const REPLACES_EXAMINED: i64 = 5_000;

/// What a hint is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HintKind {
    /// Creates answered 409: the identity provider does not match existing users or groups.
    DuplicateCreates,
    /// Requests to users that do not exist here.
    MissingUsers,
    /// Requests to groups that do not exist here.
    MissingGroups,
    /// Replaces of users without `active`.
    ReplaceWithoutActive,
    /// Requests refused for their token (outside the last hour, which the health line shows).
    RefusedTokens,
    /// Filters Insights refused.
    RefusedFilters,
}

/// One hint.
#[derive(Debug, Clone, Serialize)]
pub struct Hint {
    /// What it is about.
    pub kind: HintKind,
    /// How many requests.
    pub requests: i64,
    /// The most recent.
    pub last_at: DateTime<Utc>,
    /// What was seen, in plain words.
    pub message: String,
    /// What to change, in the identity provider's words.
    pub fix: &'static str,
    /// The Activity log's query string that lists the requests.
    pub filter: &'static str,
}

#[derive(QueryableByName)]
struct FailureGroup {
    #[diesel(sql_type = Text)]
    operation: String,
    #[diesel(sql_type = Text)]
    resource_type: String,
    #[diesel(sql_type = SmallInt)]
    status: i16,
    #[diesel(sql_type = Text)]
    scim_type: String,
    #[diesel(sql_type = BigInt)]
    requests: i64,
    #[diesel(sql_type = Timestamptz)]
    last_at: DateTime<Utc>,
}

const FAILURES: &str = "SELECT e.operation, coalesce(e.resource_type, '') AS resource_type, e.status, \
     coalesce(e.response ->> 'scimType', '') AS scim_type, count(*) AS requests, max(e.occurred_at) AS last_at \
     FROM provisioning_events e WHERE e.tenant_id = $1 AND e.occurred_at >= $2 AND e.status >= 400 \
     GROUP BY 1, 2, 3, 4";

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    requests: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_at: Option<DateTime<Utc>>,
}

const REPLACES_WITHOUT_ACTIVE: &str = "SELECT count(*) AS requests, max(r.occurred_at) AS last_at FROM ( \
     SELECT e.occurred_at, e.payload FROM provisioning_events e \
     WHERE e.tenant_id = $1 AND e.operation = 'update' AND e.occurred_at >= $2 \
       AND e.method = 'PUT' AND e.resource_type = 'User' AND e.status < 300 \
     ORDER BY e.occurred_at DESC LIMIT $3) r \
     WHERE r.payload IS NOT NULL AND NOT (r.payload ? 'active')";

/// The hints for `tenant` from the requests since `now` - [`HINT_WINDOW`].
pub fn hints(conn: &mut PgConnection, tenant: TenantId, now: DateTime<Utc>) -> Result<Vec<Hint>> {
    let since = now - HINT_WINDOW;
    let failures: Vec<FailureGroup> = diesel::sql_query(FAILURES)
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Timestamptz, _>(since)
        .load(conn)?;
    let mut found = Vec::new();
    let sum = |keep: &dyn Fn(&FailureGroup) -> bool| -> Option<(i64, DateTime<Utc>)> {
        failures
            .iter()
            .filter(|f| keep(f))
            .fold(None, |acc, f| match acc {
                None => Some((f.requests, f.last_at)),
                Some((n, at)) => Some((n + f.requests, at.max(f.last_at))),
            })
    };
    if let Some((requests, last_at)) = sum(&|f| f.operation == "create" && f.status == 409)
        && requests >= DUPLICATE_CREATES
    {
        found.push(Hint {
            kind: HintKind::DuplicateCreates,
            requests,
            last_at,
            message: format!(
                "{requests} creates in the last 7 days were refused because the user or group already exists here (409)."
            ),
            fix: "The identity provider is creating what it should have matched. In Okta, run Import on the app (Import > Import Now) and confirm the matches so that existing users are linked, and link pushed groups to existing ones under Push Groups; in Entra ID, check the matching attribute (userPrincipalName → userName, displayName for groups) under Provisioning > Mappings.",
            filter: "operation=create&status=failed&range=7d",
        });
    }
    let addressed = |f: &FailureGroup, kind: &str| f.status == 404 && f.resource_type == kind;
    if let Some((requests, last_at)) = sum(&|f| addressed(f, "User")) {
        found.push(Hint {
            kind: HintKind::MissingUsers,
            requests,
            last_at,
            message: format!(
                "{requests} request{} in the last 7 days addressed users that do not exist here (404).",
                plural(requests)
            ),
            fix: "The identity provider still holds ids of users removed here. In Okta, unassign and reassign those users to the app; in Entra ID, restart provisioning (Provisioning > Restart provisioning) so that it forgets the old ids.",
            filter: "resource=User&status=failed&range=7d",
        });
    }
    if let Some((requests, last_at)) = sum(&|f| addressed(f, "Group")) {
        found.push(Hint {
            kind: HintKind::MissingGroups,
            requests,
            last_at,
            message: format!(
                "{requests} request{} in the last 7 days addressed groups that do not exist here (404).",
                plural(requests)
            ),
            fix: "A group removed here is still pushed. In Okta, open Push Groups, unlink the group and push it again; in Entra ID, restart provisioning so that it creates the group anew.",
            filter: "resource=Group&status=failed&range=7d",
        });
    }
    if let Some((requests, last_at)) =
        sum(&|f| f.status == 400 && f.scim_type.eq_ignore_ascii_case("invalidFilter"))
    {
        found.push(Hint {
            kind: HintKind::RefusedFilters,
            requests,
            last_at,
            message: format!(
                "{requests} search{} in the last 7 days used a filter Insights refuses (400 invalidFilter).",
                if requests == 1 { "" } else { "es" }
            ),
            fix: "Okta and Entra ID look users up by userName and groups by displayName. If the matching attribute was changed to a custom one, change it back to userName (or externalId) in the provisioning mappings.",
            filter: "operation=lookup&status=failed&range=7d",
        });
    }
    let replaces: Counted = diesel::sql_query(REPLACES_WITHOUT_ACTIVE)
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Timestamptz, _>(since)
        .bind::<BigInt, _>(REPLACES_EXAMINED)
        .get_result(conn)?;
    if let (requests @ 1.., Some(last_at)) = (replaces.requests, replaces.last_at) {
        found.push(Hint {
            kind: HintKind::ReplaceWithoutActive,
            requests,
            last_at,
            message: format!(
                "{requests} replace{} (PUT) of users in the last 7 days carried no active attribute.",
                plural(requests)
            ),
            fix: "A replace without active makes a deactivated user active again. Map the active attribute in the identity provider (Entra ID: Not([IsSoftDeleted]) → active; Okta sends it unless the mapping was removed).",
            filter: "operation=update&resource=User&range=7d",
        });
    }
    let refused: Vec<_> = rejections::since(conn, tenant, since)?
        .into_iter()
        .filter(|r| {
            matches!(
                r.reason,
                RejectionReason::UnknownToken
                    | RejectionReason::RevokedToken
                    | RejectionReason::ExpiredToken
                    | RejectionReason::MissingToken
            )
        })
        .collect();
    let (requests, last_at) = refused
        .iter()
        .fold((0, None::<DateTime<Utc>>), |(n, at), r| {
            (
                n + r.requests,
                Some(at.map_or(r.last_at, |at| at.max(r.last_at))),
            )
        });
    // Refusals of the last hour are the health line's; a hint is for the week's pattern.
    if let Some(last_at) = last_at.filter(|at| now - *at >= Duration::hours(1)) {
        found.push(Hint {
            kind: HintKind::RefusedTokens,
            requests,
            last_at,
            message: format!(
                "{requests} request{} in the last 7 days were refused for a missing, unknown, revoked or expired token.",
                plural(requests)
            ),
            fix: "Some connection still uses an old token: an Okta or Entra ID app other than the one you updated, or a test app. Paste the current token into every app that provisions to this Tenant URL, or switch the stale one off.",
            filter: "operation=rejected&range=7d",
        });
    }
    found.sort_by_key(|h| std::cmp::Reverse(h.last_at));
    Ok(found)
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}
