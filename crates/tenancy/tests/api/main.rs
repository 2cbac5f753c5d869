//! Integration tests of the storage layer against a real PostgreSQL.

mod cluster;
mod scim_tokens;
mod tenants;
mod token_cache;
