//! Integration tests of the `insights` server and binary against a real PostgreSQL.

mod cli;
mod console;
mod console_sign_in;
mod embedded;
mod fuzz;
mod hardening;
mod health;
mod helpers;
mod oidc;
