//! Integration tests of the storage layer against a real PostgreSQL.

mod activity_log;
mod citus_ready;
mod console_reads;
mod migrations;
mod retention;
mod row_security;
mod scim_tokens;
mod support;
mod tenants;
mod token_cache;
