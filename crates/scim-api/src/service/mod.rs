//! The SCIM service layer: rules and mapping between the wire documents and the directory
//! rows. Each write is one transaction that also records its provisioning event.

pub mod groups;
pub mod totals;
pub mod user_batches;
pub mod users;

use scim_protocol::schema::ResourceKind;
use serde_json::Value;
use tenancy::events::{self, NewEvent};
use tenancy::scim_tokens::TokenCache;
use tenancy::{Db, Deployment, PgConnection, TenantId};

use crate::error::ScimError;
use crate::events::{Activity, EventSink, RequestPayload};
use crate::protocol::list::ListQuery;
use crate::protocol::projection::Projection;
use crate::protocol::resource::Locations;

/// What every SCIM request needs, shared by all workers.
#[derive(Clone)]
pub struct ScimState {
    /// The database.
    pub db: Db,
    /// Public URL and token settings.
    pub deployment: Deployment,
    /// Recently verified tokens (see `TokenCache`).
    pub tokens: TokenCache,
    /// The background writer of read and failure events.
    pub events: EventSink,
    /// Cached totals of unfiltered lists.
    pub totals: totals::Totals,
    /// Throttling of failed authentication.
    pub auth_limits: std::sync::Arc<crate::auth::AuthLimits>,
    /// Counts of refused requests, for the tenant's connection health.
    pub rejections: crate::events::RejectionLog,
    /// The user work batched per tenant: lookups, creates, deactivations.
    pub batches: user_batches::Batches,
}

impl ScimState {
    /// Where the tenant's resources live.
    pub fn locations(&self, tenant: TenantId) -> Locations {
        Locations::new(self.deployment.tenant_url(tenant))
    }
}

/// Where a request's resources live and how they are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The directory read and written: the tenant's own, or its shadow in shadow mode.
    pub directory: TenantId,
    /// The tenant whose Tenant URL names the resources in the answers.
    pub public: TenantId,
    /// The tenant's adoption setting.
    pub adoption: tenancy::safety::adoption::Adoption,
}

impl From<crate::auth::ScimAuth> for Scope {
    fn from(auth: crate::auth::ScimAuth) -> Self {
        Self {
            directory: auth.directory,
            public: auth.tenant,
            adoption: auth.adoption,
        }
    }
}

/// The event a successful write records in its own transaction.
#[derive(Debug, Clone)]
pub struct WriteLog {
    activity: Option<Activity>,
    payload: Option<RequestPayload>,
}

impl WriteLog {
    /// The event of a request (its activity, when the request is recorded at all) with its
    /// redacted payload.
    pub fn new(activity: Option<Activity>, payload: Option<RequestPayload>) -> Self {
        Self { activity, payload }
    }

    /// The successful write's event, for a repository function that stores it in the write's
    /// own statement.
    pub fn events(&self, status: u16, resource_id: String) -> Vec<NewEvent> {
        self.activity
            .iter()
            .map(|activity| {
                activity.event(
                    status,
                    Some(resource_id.clone()),
                    self.payload.as_ref(),
                    None,
                )
            })
            .collect()
    }

    /// Records the successful write's event on `conn` (inside the write's transaction).
    pub fn record(
        &self,
        conn: &mut PgConnection,
        status: u16,
        resource_id: String,
    ) -> Result<(), ScimError> {
        if let Some(activity) = &self.activity {
            let event: NewEvent =
                activity.event(status, Some(resource_id), self.payload.as_ref(), None);
            events::insert_many(conn, &[event])?;
        }
        Ok(())
    }
}

/// One resource as answered: its document, the version of its row (the ETag) and its address
/// (the `Location` of a 201).
#[derive(Debug, Clone)]
pub struct Versioned {
    /// The rendered (and projected) document.
    pub body: Value,
    /// The row's version.
    pub version: i64,
    /// The resource's URL.
    pub location: String,
}

impl Versioned {
    /// `body` for the resource `id` of `kind` at `version`.
    pub fn new(
        body: Value,
        version: i64,
        kind: ResourceKind,
        id: &str,
        locations: &crate::protocol::resource::Locations,
    ) -> Self {
        Self {
            body,
            version,
            location: locations.resource(kind, id),
        }
    }
}

/// The precondition of `If-Match`: `*` or a list of ETags one of which must be current.
pub fn check_if_match(if_match: Option<&str>, current: &str) -> Result<(), ScimError> {
    let Some(header) = if_match else {
        return Ok(());
    };
    let header = header.trim();
    let weak = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    if header == "*" || header.split(',').any(|tag| weak(tag) == weak(current)) {
        Ok(())
    } else {
        Err(ScimError::precondition_failed(format!(
            "The resource has changed (its version is now {current}); fetch it again and retry."
        )))
    }
}

/// A resource id from the path; ids that are not UUIDs name nothing of ours.
pub fn parse_id<T: std::str::FromStr>(kind: ResourceKind, raw: &str) -> Result<T, ScimError> {
    raw.parse().map_err(|_| not_found(kind, raw))
}

/// 404 for an id of this kind.
pub fn not_found(kind: ResourceKind, id: &str) -> ScimError {
    let id: String = id.chars().take(100).collect();
    ScimError::not_found(format!("{} \"{id}\" not found.", kind.name()))
}

/// The projection of a list or GET.
pub fn projection(kind: ResourceKind, query: &ListQuery) -> Projection {
    Projection::new(kind, &query.attributes, &query.excluded_attributes)
}
