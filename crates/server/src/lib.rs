//! The `insights` server: settings, logging, the HTTP server that mounts the SCIM API and the
//! console, database start-up (including the private embedded cluster), and operator commands.

pub mod access_log;
pub mod cli;
pub mod client_info;
pub mod commands;
pub mod database;
pub mod health;
pub mod settings;
pub mod startup;
pub mod telemetry;

pub use settings::Settings;
pub use startup::{RunningServer, spawn};
