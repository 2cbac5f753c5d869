//! Turning SCIM list parameters into SQL: filters into parameterised conditions, `sortBy`
//! into one of a fixed set of sort expressions.

pub mod filter_sql;
pub mod sort;
