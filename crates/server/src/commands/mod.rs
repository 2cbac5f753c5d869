//! What each `insights` command does.

mod admins;
mod operator;
mod serve;

pub use admins::admin;
pub use operator::{migrate, secret_key, tenant, token};
pub use serve::serve;
