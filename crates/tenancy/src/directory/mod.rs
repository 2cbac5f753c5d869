//! The directory of each tenant: users, groups, memberships and cards, as the SCIM API, the
//! console and sign-in all see them. Every function takes the tenant id and filters on it.

pub mod cards;
pub mod groups;
pub mod limits;
pub mod member_page;
pub mod query;
pub mod user_active;
pub mod user_create;
pub mod user_lookup;
pub mod user_search;
pub mod users;

pub use query::{Condition, Page, SqlValue};
