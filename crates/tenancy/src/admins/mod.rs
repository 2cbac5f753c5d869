//! Console administrators: creation with a one-time password or by invitation, roles, removal
//! and lookup for sign-in; two-step sign-in in [`mfa`], sign-in through the identity provider
//! with roles from groups in [`provider`].

pub mod invitations;
mod manage;
pub mod mfa;
mod model;
pub mod provider;
mod repo;

pub use manage::{list, remove, set_role};
pub use model::AdminRow;
pub use repo::{
    ACCOUNT_WIDE_FAILURES, FAILURE_MEMORY, FREE_ATTEMPTS, SignInCandidate,
    create_with_one_time_password, create_with_one_time_password_as, find, find_by_email,
    lockout_for, record_failed_login, record_successful_login, set_password_hash,
    sign_in_candidate, tenants_of_email,
};
