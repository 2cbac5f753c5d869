//! Everything Insights stores: the shared, tenant-keyed PostgreSQL schema, the connection pool,
//! and the repositories and services that read and write it. No HTTP types live here; the SCIM
//! API and the console both build on this crate.

pub mod admins;
pub mod audit;
pub mod bootstrap;
pub mod connection_tests;
pub mod db;
pub mod deployment;
pub mod directory;
pub mod error;
pub mod events;
pub mod health;
pub mod hints;
pub mod ids;
pub mod imports;
pub mod limits;
pub mod maintenance;
pub mod migrations;
pub mod notifications;
pub mod password;
mod prepared;
pub mod rejections;
pub mod safety;
pub mod schema;
pub mod scim_tokens;
pub mod sealed;
pub mod secret;
pub mod sessions;
mod shares;
pub mod sign_in;
pub mod stored;
pub mod tenants;

pub use db::{CrossTenant, Db, DbLimits, IsContended, Pooler, retrying, transaction};
pub use deployment::{Deployment, RequestClient, TrustedProxies};
/// The connection type every repository function takes.
pub use diesel::PgConnection;
pub use error::Error;
pub use ids::{
    AdminId, AuditId, CardId, DeliveryId, EndpointId, GroupId, ImportJobId, InvitationId,
    NotificationId, TenantId, TokenId, UserId,
};
