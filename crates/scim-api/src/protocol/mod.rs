//! The SCIM wire formats this crate speaks: resources (documents in, representations out),
//! list responses and their query parameters, attribute projection and discovery documents.

pub mod discovery;
pub mod list;
pub mod projection;
pub mod resource;
