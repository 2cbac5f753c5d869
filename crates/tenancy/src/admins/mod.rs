//! Console administrators: creation with a one-time password, lookup for sign-in.

mod model;
mod repo;

pub use model::AdminRow;
pub use repo::{
    ACCOUNT_WIDE_FAILURES, FAILURE_MEMORY, FREE_ATTEMPTS, SignInCandidate,
    create_with_one_time_password, find, find_by_email, lockout_for, record_failed_login,
    record_successful_login, set_password_hash, sign_in_candidate, tenants_of_email,
};
