//! Integration tests of the `insights` server and binary against a real PostgreSQL.

mod cli;
mod console;
mod embedded;
mod health;
mod helpers;
mod oidc;
