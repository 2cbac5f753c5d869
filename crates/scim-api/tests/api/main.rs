//! Integration tests of the SCIM service provider: a real HTTP server per test against its own
//! PostgreSQL database, driven with the request shapes Okta and Entra ID send.
#![expect(
    clippy::expect_used,
    reason = "tests fail loudly on a broken arrangement"
)]

mod activity;
mod batched_creates;
mod batching;
mod client;
mod concurrency;
mod deactivation;
mod discovery;
mod entra;
mod filters;
mod groups;
mod hardening;
mod helpers;
mod isolation;
mod okta;
mod okta_groups;
mod protocol;
mod rejections;
mod safety;
mod secrets;
mod shadow;
mod users;
