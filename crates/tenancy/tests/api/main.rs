//! Integration tests of the storage layer against a real PostgreSQL.

mod cluster;
mod row_security;
mod scim_tokens;
mod tenants;
mod token_cache;
