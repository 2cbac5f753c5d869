//! What each `insights` command does.

mod operator;
mod serve;

pub use operator::{migrate, tenant, token};
pub use serve::serve;
