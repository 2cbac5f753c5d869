//! Dynamic, parameterised list queries: a condition written by a caller (for example the SCIM
//! filter translator) over a fixed table alias, with every value passed as a bind parameter.

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::query_builder::BoxedSqlQuery;
use diesel::sql_types;
use uuid::Uuid;

/// A value bound to a `$?` placeholder of a [`Condition`].
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// `text`
    Text(String),
    /// `boolean`
    Bool(bool),
    /// `uuid`
    Uuid(Uuid),
    /// `timestamptz`
    Timestamp(DateTime<Utc>),
    /// `double precision`
    Number(f64),
    /// `text[]`, for jsonb paths (`#>>`) and `= ANY(...)`.
    TextArray(Vec<String>),
}

/// A boolean SQL expression over the list's table alias (`u` for users, `g` for groups). Each
/// `$?` in `sql` stands for the next value of `binds`; values never appear in the SQL text.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    /// The expression, with `$?` placeholders.
    pub sql: String,
    /// The values for the placeholders, in order.
    pub binds: Vec<SqlValue>,
}

impl Condition {
    /// The condition that holds for every row.
    pub fn always() -> Self {
        Self {
            sql: "TRUE".into(),
            binds: Vec::new(),
        }
    }

    /// Whether this is the trivial condition (no filter at all).
    pub fn is_always(&self) -> bool {
        self.sql == "TRUE" && self.binds.is_empty()
    }
}

/// Which slice of a list to read.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Rows to skip (SCIM `startIndex - 1`).
    pub offset: i64,
    /// Rows to return at most (SCIM `count`).
    pub limit: i64,
    /// An SQL sort expression over the alias (from a fixed list, never from input), or `None`
    /// for id order. The id is always the final tie-breaker, so pages are stable.
    pub order_by: Option<&'static str>,
    /// Descending order.
    pub descending: bool,
}

/// Replaces each `$?` with `$n`, numbering from `first`. Returns the SQL and the next number.
pub(crate) fn number_placeholders(sql: &str, first: usize) -> (String, usize) {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = first;
    let mut rest = sql;
    while let Some(at) = rest.find("$?") {
        out.push_str(&rest[..at]);
        out.push_str(&format!("${next}"));
        next += 1;
        rest = &rest[at + 2..];
    }
    out.push_str(rest);
    (out, next)
}

/// Binds the values of a condition, in order, to a boxed query.
pub(crate) fn bind_all<'a>(
    mut query: BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery>,
    binds: &[SqlValue],
) -> BoxedSqlQuery<'a, Pg, diesel::query_builder::SqlQuery> {
    for value in binds {
        query = match value.clone() {
            SqlValue::Text(v) => query.bind::<sql_types::Text, _>(v),
            SqlValue::Bool(v) => query.bind::<sql_types::Bool, _>(v),
            SqlValue::Uuid(v) => query.bind::<sql_types::Uuid, _>(v),
            SqlValue::Timestamp(v) => query.bind::<sql_types::Timestamptz, _>(v),
            SqlValue::Number(v) => query.bind::<sql_types::Double, _>(v),
            SqlValue::TextArray(v) => query.bind::<sql_types::Array<sql_types::Text>, _>(v),
        };
    }
    query
}

/// `SELECT <alias>.* FROM <table> <alias>` for one page of rows matching `condition`, fetched
/// through a deferred join: the page of ids is found first (index-only where possible), and
/// only those rows are read, so deep pages cost about as much as the first.
pub(crate) fn page_sql(
    table: &str,
    alias: &str,
    condition: &Condition,
    page: &Page,
) -> (String, usize) {
    let (where_sql, next) = number_placeholders(&condition.sql, 2);
    let direction = if page.descending { "DESC" } else { "ASC" };
    let order = match page.order_by {
        Some(expr) => format!("{expr} {direction} NULLS LAST, {alias}.id {direction}"),
        None => format!("{alias}.id {direction}"),
    };
    let outer_order = order.replace(&format!("{alias}."), "o.");
    let sql = format!(
        "SELECT o.* FROM (SELECT {alias}.id FROM {table} {alias} WHERE {alias}.tenant_id = $1 AND ({where_sql}) \
         ORDER BY {order} LIMIT ${limit} OFFSET ${offset}) p \
         JOIN {table} o ON o.tenant_id = $1 AND o.id = p.id ORDER BY {outer_order}",
        limit = next,
        offset = next + 1,
    );
    (sql, next + 2)
}

/// `SELECT count(*)` of the rows matching `condition`.
pub(crate) fn count_sql(table: &str, alias: &str, condition: &Condition) -> String {
    let (where_sql, _) = number_placeholders(&condition.sql, 2);
    format!(
        "SELECT count(*) AS n FROM {table} {alias} WHERE {alias}.tenant_id = $1 AND ({where_sql})"
    )
}

/// One page of `table` (alias `alias`) rows of the tenant matching `condition`.
pub(crate) fn load_page<R>(
    conn: &mut diesel::PgConnection,
    table: &str,
    alias: &str,
    tenant: crate::ids::TenantId,
    condition: &Condition,
    page: &Page,
) -> crate::error::Result<Vec<R>>
where
    R: diesel::deserialize::QueryableByName<Pg> + 'static,
{
    use diesel::RunQueryDsl as _;
    let (sql, _) = page_sql(table, alias, condition, page);
    let query = diesel::sql_query(sql)
        .into_boxed()
        .bind::<sql_types::Uuid, _>(tenant.as_uuid());
    let query = bind_all(query, &condition.binds)
        .bind::<sql_types::BigInt, _>(page.limit)
        .bind::<sql_types::BigInt, _>(page.offset);
    if condition.is_always() {
        // An unfiltered page (Okta's full import walks these) has one text per sort order, a
        // small fixed set: keep it prepared. Filtered pages are not kept, as their texts
        // follow the filters a client sends.
        return Ok(crate::prepared::Prepared(query).load(conn)?);
    }
    Ok(query.load(conn)?)
}

/// How many `table` rows of the tenant match `condition`.
pub(crate) fn count(
    conn: &mut diesel::PgConnection,
    table: &str,
    alias: &str,
    tenant: crate::ids::TenantId,
    condition: &Condition,
) -> crate::error::Result<i64> {
    use diesel::RunQueryDsl as _;
    let query = diesel::sql_query(count_sql(table, alias, condition))
        .into_boxed()
        .bind::<sql_types::Uuid, _>(tenant.as_uuid());
    Ok(bind_all(query, &condition.binds)
        .get_result::<CountRow>(conn)?
        .n)
}

/// Row type of [`count_sql`].
#[derive(diesel::QueryableByName)]
pub(crate) struct CountRow {
    #[diesel(sql_type = sql_types::BigInt)]
    pub n: i64,
}

/// `text` with the `LIKE` wildcards (`%`, `_`) and the escape character taken literally.
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_in_order() {
        let (sql, next) = number_placeholders("a = $? AND (b = $? OR c @> $?)", 2);
        assert_eq!(sql, "a = $2 AND (b = $3 OR c @> $4)");
        assert_eq!(next, 5);
    }

    #[test]
    fn page_sql_uses_a_deferred_join_with_stable_order() {
        let condition = Condition {
            sql: "u.user_name_key = lower($?)".into(),
            binds: vec![SqlValue::Text("x".into())],
        };
        let page = Page {
            offset: 0,
            limit: 10,
            order_by: Some("u.user_name_key"),
            descending: false,
        };
        let (sql, next) = page_sql("users", "u", &condition, &page);
        assert!(sql.contains("WHERE u.tenant_id = $1 AND (u.user_name_key = lower($2))"));
        assert!(
            sql.contains("ORDER BY u.user_name_key ASC NULLS LAST, u.id ASC LIMIT $3 OFFSET $4")
        );
        assert!(sql.ends_with("ORDER BY o.user_name_key ASC NULLS LAST, o.id ASC"));
        assert_eq!(next, 5);
    }
}
