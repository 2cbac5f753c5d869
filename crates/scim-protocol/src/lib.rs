//! The SCIM 2.0 protocol pieces that need no database or HTTP: the RFC 7643 schemas and
//! attribute lookup ([`schema`]), the RFC 7644 filter language ([`filter`]) and the PATCH
//! engine ([`patch`]).
//!
//! Errors: [`FilterError`] for filters and attribute paths that do not parse, [`PatchError`]
//! for PATCH requests; both carry the RFC 7644 §3.12 `scimType` and a message fit for the
//! SCIM error `detail`.

mod attr_path;
mod error;
pub mod filter;
mod json;
pub mod patch;
pub mod redact;
pub mod schema;

pub use attr_path::AttrPath;
pub use error::{FilterError, PatchError};
pub use filter::{CompValue, CompareOp, Filter, matches, parse_filter};
pub use patch::{
    GroupMemberChange, PATCH_OP_SCHEMA, PatchOp, PatchOpKind, PatchPath, apply, parse_patch,
    parse_patch_owned, sets_only_active, split_group_ops,
};
pub use schema::{
    AttrType, Attribute, ResolvedAttr, ResourceKind, Schema, enterprise_user_schema,
    find_attribute, group_schema, schema_json, user_schema,
};
