//! Console administrators: creation with a one-time password, lookup for sign-in.

mod model;
mod repo;

pub use model::AdminRow;
pub use repo::{create_with_one_time_password, find, find_by_email};
