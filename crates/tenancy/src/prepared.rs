//! Hand-written statements that PostgreSQL parses and plans once per connection.
//!
//! diesel never keeps a `sql_query` in its statement cache, so such a statement is parsed and
//! planned on every execution; for the one-statement writes of the SCIM hot path (an INSERT or
//! UPDATE with its event in a CTE) planning cost more database CPU than running them. Wrapping
//! a statement whose text is fixed lets diesel cache it like its own queries, keyed by the
//! text and the bind types.

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement diesel may keep prepared. Only for SQL whose text does not depend on input:
/// every distinct text stays prepared for the life of the connection.
#[derive(Debug, Clone)]
pub(crate) struct Prepared<Q>(pub(crate) Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    // `sql_query` declares itself unsafe to cache because its text could be anything; the
    // callers of `Prepared` vouch that it is not.
    fn is_safe_to_cache_prepared(&self, _backend: &Pg) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Prepared<Q> {
    // No static id: diesel keys the cache by the SQL text instead.
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, Conn> RunQueryDsl<Conn> for Prepared<Q> {}
