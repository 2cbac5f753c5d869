//! Console administrators: creation with a one-time password, lookup for sign-in.

mod model;
mod repo;

pub use model::AdminRow;
pub use repo::{
    FREE_ATTEMPTS, create_with_one_time_password, find, find_by_email, lockout_for,
    record_failed_login, record_successful_login, set_password_hash,
};
