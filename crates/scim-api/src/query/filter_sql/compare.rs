//! Comparisons (`eq ne co sw ew gt ge lt le`) of a resolved target with a filter value, typed
//! by the attribute: booleans, numbers, dateTimes, ids and strings with their case rule.

use chrono::DateTime;
use scim_protocol::{AttrPath, AttrType, CompValue, CompareOp};
use tenancy::directory::SqlValue;

use super::columns::{element_value, elements, invalid, membership_expr};
use super::{Target, Translator};
use crate::error::ScimError;

impl Translator {
    pub(super) fn compare(
        &mut self,
        target: &Target,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<String, ScimError> {
        match target {
            Target::Column {
                expr,
                kind,
                case_exact,
            } => self.compare_scalar(expr, *kind, *case_exact, path, op, value),
            Target::Json {
                base,
                keys,
                kind,
                case_exact,
            } => {
                // The path is bound twice because the scalar expression names the value twice.
                let json = (
                    self.json_value(base, keys.clone()),
                    self.json_value(base, keys.clone()),
                );
                let scalar = json_scalar(&json, *kind);
                self.compare_scalar(&scalar, *kind, *case_exact, path, op, value)
            }
            Target::Elements {
                base,
                keys,
                sub,
                kind,
                case_exact,
            } => {
                let array = self.json_value(base, keys.clone());
                let element = element_value("x", *sub);
                let scalar = json_scalar(&(element.clone(), element), *kind);
                let inner = self.compare_scalar(&scalar, *kind, *case_exact, path, op, value)?;
                Ok(format!(
                    "EXISTS (SELECT 1 FROM {} x WHERE {inner})",
                    elements(&array)
                ))
            }
            Target::Membership { sub, in_scope } => {
                let (expr, kind) = membership_expr(self.kind, sub);
                let inner = self.compare_scalar(&expr, kind, *sub == "value", path, op, value)?;
                if *in_scope {
                    Ok(inner)
                } else {
                    Ok(format!(
                        "EXISTS ({} AND {inner})",
                        self.own_membership_table()
                    ))
                }
            }
        }
    }

    fn compare_scalar(
        &mut self,
        expr: &str,
        kind: AttrType,
        case_exact: bool,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<String, ScimError> {
        if *value == CompValue::Null {
            return match op {
                CompareOp::Eq => Ok(format!("({expr} IS NULL)")),
                CompareOp::Ne => Ok(format!("({expr} IS NOT NULL)")),
                _ => Err(invalid(format!(
                    "\"{path} {}\" cannot compare with null",
                    op.as_str()
                ))),
            };
        }
        let sql = match kind {
            AttrType::Boolean => {
                let CompValue::Bool(b) = value else {
                    return Err(invalid(format!(
                        "\"{path}\" is a boolean: compare it with true or false"
                    )));
                };
                let p = self.bind(SqlValue::Bool(*b));
                match op {
                    CompareOp::Eq => format!("{expr} = {p}"),
                    CompareOp::Ne => format!("{expr} IS DISTINCT FROM {p}"),
                    _ => {
                        return Err(invalid(format!(
                            "\"{path}\" is a boolean: only eq and ne apply"
                        )));
                    }
                }
            }
            AttrType::Decimal | AttrType::Integer => {
                let CompValue::Number(n) = value else {
                    return Err(invalid(format!(
                        "\"{path}\" is a number: compare it with a number"
                    )));
                };
                let p = self.bind(SqlValue::Number(n.as_f64().unwrap_or_default()));
                ordered(expr, op, p, path)?
            }
            AttrType::DateTime if expr.ends_with("_at") => {
                let CompValue::Str(text) = value else {
                    return Err(invalid(format!(
                        "\"{path}\" is a dateTime: compare it with a quoted RFC 3339 time"
                    )));
                };
                let time = DateTime::parse_from_rfc3339(text).map_err(|_| {
                    invalid(format!(
                        "\"{text}\" is not an RFC 3339 dateTime (for example 2026-01-31T12:00:00Z)"
                    ))
                })?;
                let p = self.bind(SqlValue::Timestamp(time.to_utc()));
                ordered(expr, op, p, path)?
            }
            _ if expr.ends_with(".id") || expr == "m.user_id" || expr == "m.group_id" => {
                let CompValue::Str(text) = value else {
                    return Err(invalid(format!(
                        "\"{path}\" is a string: compare it with a quoted value"
                    )));
                };
                match (op, uuid::Uuid::parse_str(text)) {
                    (CompareOp::Eq, Ok(id)) => {
                        format!("{expr} = {}", self.bind(SqlValue::Uuid(id)))
                    }
                    (CompareOp::Ne, Ok(id)) => {
                        format!("{expr} <> {}", self.bind(SqlValue::Uuid(id)))
                    }
                    // No resource has an id that is not a UUID.
                    (CompareOp::Eq, Err(_)) => "FALSE".to_owned(),
                    (CompareOp::Ne, Err(_)) => "TRUE".to_owned(),
                    _ => {
                        let (p, again) = self.bind_text_for(op, text);
                        string_op(&format!("{expr}::text"), op, p, again, true)
                    }
                }
            }
            _ => {
                let CompValue::Str(text) = value else {
                    return Err(invalid(format!(
                        "\"{path}\" is a string: compare it with a quoted value"
                    )));
                };
                let (p, again) = self.bind_text_for(op, text);
                string_op(expr, op, p, again, case_exact)
            }
        };
        // A comparison with a NULL operand is NULL, and `not (NULL)` is NULL too, so nullable
        // operands are wrapped to make `not` a true complement. Columns that are NOT NULL stay
        // bare: wrapped, `u.user_name_key = lower($n)` could no longer use its index.
        if NOT_NULL.contains(&expr) {
            Ok(sql)
        } else {
            Ok(format!("COALESCE({sql}, FALSE)"))
        }
    }
}

/// Operand expressions that are never NULL (NOT NULL columns of users, groups and memberships).
const NOT_NULL: [&str; 12] = [
    "u.id",
    "u.user_name",
    "u.active",
    "u.created_at",
    "u.updated_at",
    "g.id",
    "g.display_name",
    "g.created_at",
    "g.updated_at",
    "m.user_id",
    "m.group_id",
    "o.display_name",
];

fn ordered(expr: &str, op: CompareOp, p: &str, path: &AttrPath) -> Result<String, ScimError> {
    let sql_op = match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
            return Err(invalid(format!(
                "\"{path}\" is not a string: {} does not apply",
                op.as_str()
            )));
        }
    };
    Ok(format!("{expr} {sql_op} {p}"))
}

/// The stored `lower()` of a column, where there is one. Compared instead of `lower(column)`:
/// under row-level security only a condition that passes no column to a function that is not
/// LEAKPROOF (`lower` is not) can use an index, so `lower(u.user_name) = lower($1)` would scan
/// the tenant while `u.user_name_key = lower($1)` is one index probe.
fn folded_column(expr: &str) -> Option<&'static str> {
    match expr {
        "u.user_name" => Some("u.user_name_key"),
        "g.display_name" => Some("g.display_name_key"),
        "o.display_name" => Some("o.display_name_key"),
        _ => None,
    }
}

/// A string comparison; `again` is a second placeholder for the same value (used by `ew`).
fn string_op(expr: &str, op: CompareOp, p: &str, again: &str, case_exact: bool) -> String {
    let fold = |e: &str| match (case_exact, folded_column(e)) {
        (true, _) => e.to_owned(),
        (false, Some(stored)) => stored.to_owned(),
        (false, None) => format!("lower({e})"),
    };
    let (x, v) = (fold(expr), fold(p));
    match op {
        CompareOp::Eq => format!("{x} = {v}"),
        CompareOp::Ne => format!("{x} IS DISTINCT FROM {v}"),
        CompareOp::Co => format!("strpos({x}, {v}) > 0"),
        CompareOp::Sw => format!("starts_with({x}, {v})"),
        CompareOp::Ew => format!("right({x}, char_length({v})) = {}", fold(again)),
        CompareOp::Gt => format!("{x} > {v}"),
        CompareOp::Ge => format!("{x} >= {v}"),
        CompareOp::Lt => format!("{x} < {v}"),
        CompareOp::Le => format!("{x} <= {v}"),
    }
}

/// The SQL scalar of a jsonb value for comparisons: text for strings, a number or boolean
/// when the stored value has that type (anything else compares as NULL, i.e. no match). The
/// value is given twice, each copy with its own placeholders, because it is named twice.
fn json_scalar((test, value): &(String, String), kind: AttrType) -> String {
    match kind {
        AttrType::Boolean => {
            format!("(CASE WHEN jsonb_typeof({test}) = 'boolean' THEN ({value})::boolean END)")
        }
        AttrType::Decimal | AttrType::Integer => {
            format!("(CASE WHEN jsonb_typeof({test}) = 'number' THEN ({value})::float8 END)")
        }
        _ => format!("(CASE WHEN jsonb_typeof({test}) = 'string' THEN {value} #>> '{{}}' END)"),
    }
}
