//! The SCIM 2.0 service provider (RFC 7643/7644) under `/scim/v2/{tenant}`: bearer-token
//! authentication, Users and Groups with filters, paging, PATCH and ETags, discovery, RFC 7644
//! error bodies, and the provisioning activity log. Okta and Entra ID work against it unchanged.

pub mod auth;
pub mod batch;
pub mod error;
pub mod events;
pub mod handlers;
pub mod json;
pub mod protocol;
pub mod query;
pub mod routes;
pub mod service;

pub use error::ScimError;
pub use events::{EventSink, RejectionLog};
pub use routes::configure;
pub use service::ScimState;
