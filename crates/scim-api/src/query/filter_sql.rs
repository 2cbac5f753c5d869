//! Translation of a parsed SCIM filter into a parameterised SQL condition over the users (`u`)
//! or groups (`g`) table. Filtering always happens in the database, never in memory; whatever
//! cannot be translated faithfully is refused with `invalidFilter` rather than ignored.
//!
//! Column-backed attributes (userName, externalId, active, displayName, name parts, meta dates)
//! compare against their columns, so `userName eq "…"` uses the per-tenant `lower(user_name)`
//! index. Every other attribute is read from the stored document (`attributes` jsonb), and
//! multi-valued ones through `jsonb_array_elements`. Memberships come from `group_members`.

use chrono::DateTime;
use scim_protocol::schema::{AttrOrigin, ResourceKind};
use scim_protocol::{AttrPath, AttrType, CompValue, CompareOp, Filter, find_attribute};
use tenancy::directory::{Condition, SqlValue};

use crate::error::ScimError;

/// The SQL condition for `filter` on resources of `kind`.
pub fn condition(kind: ResourceKind, filter: &Filter) -> Result<Condition, ScimError> {
    let mut translator = Translator {
        kind,
        binds: Vec::new(),
    };
    let sql = translator.filter(filter, &Scope::Resource)?;
    Ok(Condition {
        sql,
        binds: translator.binds,
    })
}

/// Where attribute paths are resolved: the resource itself, or one element of a multi-valued
/// attribute inside a value-path filter (`emails[type eq "work"]`).
enum Scope {
    Resource,
    /// A jsonb array element bound to `e<n>`, with the parent attribute's definition.
    Element {
        alias: String,
        parent: &'static scim_protocol::Attribute,
    },
    /// A membership row (`m`) joined with the other side (`o`).
    Membership,
}

struct Translator {
    kind: ResourceKind,
    binds: Vec<SqlValue>,
}

/// What a path resolves to, in SQL terms.
enum Target {
    /// A column (or expression) of the row, with its type and case rule.
    Column {
        expr: &'static str,
        kind: AttrType,
        case_exact: bool,
    },
    /// A jsonb value under a key path of the document (or of an array element).
    Json {
        base: String,
        keys: Vec<String>,
        kind: AttrType,
        case_exact: bool,
    },
    /// Each element of a jsonb array, compared on one sub-attribute (`emails.value`), or on the
    /// element itself for multi-valued simple attributes (`sub` is `None`).
    Elements {
        base: String,
        keys: Vec<String>,
        sub: Option<&'static str>,
        kind: AttrType,
        case_exact: bool,
    },
    /// The user's groups or the group's members, compared on a membership sub-attribute;
    /// `in_scope` when already inside the membership subquery of a value filter.
    Membership { sub: &'static str, in_scope: bool },
}

impl Translator {
    fn bind(&mut self, value: SqlValue) -> &'static str {
        self.binds.push(value);
        "$?"
    }

    /// Binds a string operand; `ew` names it twice, so it gets a second placeholder.
    fn bind_text_for(&mut self, op: CompareOp, text: &str) -> (&'static str, &'static str) {
        let p = self.bind(SqlValue::Text(text.to_owned()));
        let again = if op == CompareOp::Ew {
            self.bind(SqlValue::Text(text.to_owned()))
        } else {
            ""
        };
        (p, again)
    }

    fn alias(&self) -> &'static str {
        match self.kind {
            ResourceKind::User => "u",
            ResourceKind::Group => "g",
        }
    }

    fn filter(&mut self, filter: &Filter, scope: &Scope) -> Result<String, ScimError> {
        Ok(match filter {
            Filter::And(a, b) => format!(
                "({} AND {})",
                self.filter(a, scope)?,
                self.filter(b, scope)?
            ),
            Filter::Or(a, b) => {
                format!("({} OR {})", self.filter(a, scope)?, self.filter(b, scope)?)
            }
            Filter::Not(inner) => format!("(NOT {})", self.filter(inner, scope)?),
            Filter::Present(path) => {
                let target = self.resolve(path, scope)?;
                self.present(&target)
            }
            Filter::Compare { path, op, value } => {
                let target = self.resolve(path, scope)?;
                self.compare(&target, path, *op, value)?
            }
            Filter::ValuePath { path, filter } => self.value_path(path, filter, scope)?,
        })
    }

    fn value_path(
        &mut self,
        path: &AttrPath,
        inner: &Filter,
        scope: &Scope,
    ) -> Result<String, ScimError> {
        if !matches!(scope, Scope::Resource) || path.sub_attr.is_some() {
            return Err(invalid(format!("\"{path}[…]\" is not a valid value path")));
        }
        let resolved = find_attribute(self.kind, path).ok_or_else(|| unknown(path))?;
        if !resolved.attribute.multi_valued || resolved.attribute.kind != AttrType::Complex {
            return Err(invalid(format!(
                "\"{path}\" is not a multi-valued complex attribute, so it cannot take a [filter]"
            )));
        }
        if let Some(membership) = self.membership_table(resolved.name()) {
            let inner_sql = self.filter(inner, &Scope::Membership)?;
            return Ok(format!("EXISTS ({membership} AND {inner_sql})"));
        }
        let alias = format!("e{}", self.binds.len());
        let keys = document_keys(&resolved);
        let array = self.json_value(&self.document_base(), keys);
        let inner_sql = self.filter(
            inner,
            &Scope::Element {
                alias: alias.clone(),
                parent: resolved.attribute,
            },
        )?;
        Ok(format!(
            "EXISTS (SELECT 1 FROM {} {alias} WHERE {inner_sql})",
            elements(&array)
        ))
    }

    /// The membership subquery prefix for `groups` on users and `members` on groups.
    fn membership_table(&self, attribute: &str) -> Option<&'static str> {
        match (self.kind, attribute) {
            (ResourceKind::User, "groups") => Some(
                "SELECT 1 FROM group_members m JOIN groups o ON o.tenant_id = m.tenant_id AND o.id = m.group_id \
                 WHERE m.tenant_id = u.tenant_id AND m.user_id = u.id",
            ),
            (ResourceKind::Group, "members") => Some(
                "SELECT 1 FROM group_members m JOIN users o ON o.tenant_id = m.tenant_id AND o.id = m.user_id \
                 WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id",
            ),
            _ => None,
        }
    }

    /// The membership subquery of this resource kind.
    fn own_membership_table(&self) -> &'static str {
        let attribute = if self.kind == ResourceKind::User {
            "groups"
        } else {
            "members"
        };
        self.membership_table(attribute)
            .unwrap_or("SELECT 1 WHERE FALSE")
    }

    fn document_base(&self) -> String {
        format!("{}.attributes", self.alias())
    }

    fn resolve(&mut self, path: &AttrPath, scope: &Scope) -> Result<Target, ScimError> {
        match scope {
            Scope::Resource => self.resolve_on_resource(path),
            Scope::Element { alias, parent } => {
                if path.uri.is_some() || path.sub_attr.is_some() {
                    return Err(invalid(format!(
                        "\"{path}\" cannot be used inside a value filter"
                    )));
                }
                let sub = parent.sub_attribute(&path.attr).ok_or_else(|| {
                    invalid(format!(
                        "\"{}\" has no sub-attribute \"{}\"",
                        parent.name, path.attr
                    ))
                })?;
                Ok(Target::Json {
                    base: alias.clone(),
                    keys: vec![sub.name.to_owned()],
                    kind: sub.kind,
                    case_exact: sub.case_exact,
                })
            }
            Scope::Membership => {
                if path.uri.is_some() || path.sub_attr.is_some() {
                    return Err(invalid(format!(
                        "\"{path}\" cannot be used inside a value filter"
                    )));
                }
                membership_sub(&path.attr).map(|sub| Target::Membership {
                    sub,
                    in_scope: true,
                })
            }
        }
    }

    fn resolve_on_resource(&mut self, path: &AttrPath) -> Result<Target, ScimError> {
        let resolved = find_attribute(self.kind, path).ok_or_else(|| unknown(path))?;
        let name = resolved.name();
        let sub = resolved.sub_name();
        if let Some(column) = column_for(self.kind, name, sub) {
            return Ok(column);
        }
        if resolved.origin == AttrOrigin::Common && name == "meta" {
            return Err(invalid(format!(
                "\"{path}\" cannot be filtered on; use meta.created or meta.lastModified"
            )));
        }
        if self.membership_table(name).is_some() {
            let sub = match resolved.sub_attribute {
                Some(sub) => membership_sub(sub.name)?,
                None => "value",
            };
            return Ok(Target::Membership {
                sub,
                in_scope: false,
            });
        }
        let attribute = resolved.attribute;
        if attribute.multi_valued {
            // A comparison on a multi-valued complex attribute without a sub-attribute compares
            // its "value" (RFC 7644 §3.4.2.2); plain multi-valued strings compare each element.
            let sub = match resolved.sub_attribute {
                Some(sub) => Some(sub),
                None if attribute.kind == AttrType::Complex => {
                    Some(attribute.sub_attribute("value").ok_or_else(|| {
                        invalid(format!(
                            "\"{path}\" has no \"value\"; name a sub-attribute to compare"
                        ))
                    })?)
                }
                None => None,
            };
            let definition = sub.unwrap_or(attribute);
            let mut keys = document_keys(&resolved);
            if resolved.sub_attribute.is_some() {
                keys.pop();
            }
            return Ok(Target::Elements {
                base: self.document_base(),
                keys,
                sub: sub.map(|s| s.name),
                kind: definition.kind,
                case_exact: definition.case_exact,
            });
        }
        let definition = resolved.definition();
        Ok(Target::Json {
            base: self.document_base(),
            keys: document_keys(&resolved),
            kind: definition.kind,
            case_exact: definition.case_exact,
        })
    }

    fn json_value(&mut self, base: &str, keys: Vec<String>) -> String {
        let placeholder = self.bind(SqlValue::TextArray(keys));
        format!("({base} #> {placeholder}::text[])")
    }

    fn present(&mut self, target: &Target) -> String {
        match target {
            Target::Column {
                expr,
                kind: AttrType::String,
                ..
            } => format!("({expr} IS NOT NULL AND {expr} <> '')"),
            Target::Column { expr, .. } => format!("({expr} IS NOT NULL)"),
            Target::Json { base, keys, .. } => {
                let value = self.json_value(base, keys.clone());
                format!(
                    "COALESCE({value} NOT IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb, '{{}}'::jsonb), FALSE)"
                )
            }
            Target::Elements {
                base, keys, sub, ..
            } => {
                let array = self.json_value(base, keys.clone());
                let element = element_value("x", *sub);
                format!(
                    "EXISTS (SELECT 1 FROM {} x WHERE COALESCE({element} NOT IN ('null'::jsonb, '\"\"'::jsonb), FALSE))",
                    elements(&array)
                )
            }
            Target::Membership { in_scope: true, .. } => "TRUE".to_owned(),
            Target::Membership {
                in_scope: false, ..
            } => format!("EXISTS ({})", self.own_membership_table()),
        }
    }

    fn compare(
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
        Ok(format!("COALESCE({sql}, FALSE)"))
    }
}

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

/// A string comparison; `again` is a second placeholder for the same value (used by `ew`).
fn string_op(expr: &str, op: CompareOp, p: &str, again: &str, case_exact: bool) -> String {
    let fold = |e: &str| {
        if case_exact {
            e.to_owned()
        } else {
            format!("lower({e})")
        }
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

/// The jsonb of one array element's sub-attribute, or the element itself for simple arrays.
/// Sub-attribute names come from the schema (canonical, `[A-Za-z$]` only), never from input.
fn element_value(alias: &str, sub: Option<&str>) -> String {
    match sub {
        Some(name) => format!("({alias} -> '{name}')"),
        None => alias.to_owned(),
    }
}

/// The elements of a jsonb array as a set; in lax mode a lone value counts as one element and a
/// missing one as none, so no stored shape can make the query fail.
fn elements(json: &str) -> String {
    format!("jsonb_path_query({json}, 'lax $[*]')")
}

/// The document keys of a resolved path: extension attributes live under their schema URN.
fn document_keys(resolved: &scim_protocol::ResolvedAttr) -> Vec<String> {
    let mut keys = Vec::with_capacity(3);
    if resolved.is_extension() {
        keys.push(resolved.schema.id.to_owned());
    }
    keys.push(resolved.name().to_owned());
    if let Some(sub) = resolved.sub_name() {
        keys.push(sub.to_owned());
    }
    keys
}

/// Columns that mirror attributes, so filters on them use indexes and typed comparisons.
fn column_for(kind: ResourceKind, name: &str, sub: Option<&str>) -> Option<Target> {
    let column = |expr, kind, case_exact| {
        Some(Target::Column {
            expr,
            kind,
            case_exact,
        })
    };
    match (kind, name, sub) {
        (ResourceKind::User, "id", None) => column("u.id", AttrType::String, true),
        (ResourceKind::User, "userName", None) => column("u.user_name", AttrType::String, false),
        (ResourceKind::User, "externalId", None) => column("u.external_id", AttrType::String, true),
        (ResourceKind::User, "active", None) => column("u.active", AttrType::Boolean, true),
        (ResourceKind::User, "displayName", None) => {
            column("u.display_name", AttrType::String, false)
        }
        (ResourceKind::User, "name", Some("givenName")) => {
            column("u.given_name", AttrType::String, false)
        }
        (ResourceKind::User, "name", Some("familyName")) => {
            column("u.family_name", AttrType::String, false)
        }
        (ResourceKind::User, "meta", Some("created")) => {
            column("u.created_at", AttrType::DateTime, true)
        }
        (ResourceKind::User, "meta", Some("lastModified")) => {
            column("u.updated_at", AttrType::DateTime, true)
        }
        (ResourceKind::Group, "id", None) => column("g.id", AttrType::String, true),
        (ResourceKind::Group, "displayName", None) => {
            column("g.display_name", AttrType::String, false)
        }
        (ResourceKind::Group, "externalId", None) => {
            column("g.external_id", AttrType::String, true)
        }
        (ResourceKind::Group, "meta", Some("created")) => {
            column("g.created_at", AttrType::DateTime, true)
        }
        (ResourceKind::Group, "meta", Some("lastModified")) => {
            column("g.updated_at", AttrType::DateTime, true)
        }
        _ => None,
    }
}

/// The membership sub-attributes that can be filtered on.
fn membership_sub(name: &str) -> Result<&'static str, ScimError> {
    ["value", "display"]
        .into_iter()
        .find(|sub| sub.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            invalid(format!(
                "members and groups can be filtered on value or display, not \"{name}\""
            ))
        })
}

/// The SQL for a membership sub-attribute: the other side's id or its name.
fn membership_expr(kind: ResourceKind, sub: &str) -> (String, AttrType) {
    match (kind, sub) {
        (ResourceKind::User, "value") => ("m.group_id".into(), AttrType::String),
        (ResourceKind::Group, "value") => ("m.user_id".into(), AttrType::String),
        (ResourceKind::User, _) => ("o.display_name".into(), AttrType::String),
        (ResourceKind::Group, _) => (
            "coalesce(o.display_name, o.user_name)".into(),
            AttrType::String,
        ),
    }
}

fn unknown(path: &AttrPath) -> ScimError {
    invalid(format!(
        "\"{path}\" is not an attribute that can be filtered on"
    ))
}

fn invalid(detail: String) -> ScimError {
    ScimError::invalid_filter(detail)
}

#[cfg(test)]
mod tests {
    use scim_protocol::parse_filter;

    use super::*;

    fn sql(kind: ResourceKind, filter: &str) -> Result<Condition, ScimError> {
        condition(kind, &parse_filter(filter).map_err(ScimError::from)?)
    }

    /// Every `$?` has exactly one bind, whatever the filter.
    fn placeholders_match(c: &Condition) -> bool {
        c.sql.matches("$?").count() == c.binds.len()
    }

    #[test]
    fn user_name_eq_uses_the_indexed_lower_expression() -> Result<(), ScimError> {
        let c = sql(ResourceKind::User, r#"userName eq "Bjensen@Example.com""#)?;
        assert_eq!(c.sql, "COALESCE(lower(u.user_name) = lower($?), FALSE)");
        assert_eq!(c.binds, vec![SqlValue::Text("Bjensen@Example.com".into())]);
        Ok(())
    }

    #[test]
    fn every_shape_binds_each_placeholder_once() -> Result<(), ScimError> {
        for filter in [
            r#"emails[type eq "work" and value ew "@example.com"]"#,
            r#"emails.value co "x" or name.formatted sw "A""#,
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "42""#,
            r#"not (active eq false) and title pr"#,
            r#"meta.lastModified gt "2026-01-01T00:00:00Z""#,
            r#"groups[display eq "Sales"] or groups.value eq "a1b2""#,
            r#"externalId ew "x" and nickName ew "y""#,
            r#"x509Certificates pr"#,
        ] {
            let c = sql(ResourceKind::User, filter)?;
            assert!(placeholders_match(&c), "{filter}: {c:?}");
        }
        let c = sql(
            ResourceKind::Group,
            r#"displayName eq "Sales & Marketing + Ops" and members[value eq "not-a-uuid"]"#,
        )?;
        assert!(placeholders_match(&c));
        assert!(
            c.sql.contains("FALSE"),
            "a non-UUID member id matches nothing: {}",
            c.sql
        );
        Ok(())
    }

    #[test]
    fn unsupported_or_mistyped_filters_are_invalid_filter() {
        for filter in [
            r#"nosuchattribute eq "x""#,
            r#"active eq "yes""#,
            r#"active gt true"#,
            r#"meta.created gt "yesterday""#,
            r#"userName gt 5"#,
            r#"meta.resourceType eq "User""#,
            r#"members[type eq "User"]"#,
        ] {
            let kind = if filter.starts_with("members") {
                ResourceKind::Group
            } else {
                ResourceKind::User
            };
            let result = sql(kind, filter);
            assert!(
                matches!(&result, Err(e) if e.scim_type == Some("invalidFilter")),
                "{filter} should be invalidFilter, got {result:?}"
            );
        }
    }
}
