//! What each `insights` command does.

mod operator;
mod serve;

pub use operator::{migrate, secret_key, tenant, token};
pub use serve::serve;
