//! The console's pages, one module per area.

pub mod activity;
pub mod admins;
pub mod audit;
pub mod directory_settings;
pub mod end_user;
pub mod groups;
pub mod import;
pub mod invitations;
pub mod login;
pub mod mfa;
pub mod password;
pub mod provider_sign_in;
pub mod safety;
pub mod shadow;
pub mod sign_in_settings;
pub mod token_status;
pub mod two_step;
pub mod user_group_sync;
pub mod users;
