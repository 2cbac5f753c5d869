//! Translation of a parsed SCIM filter into a parameterised SQL condition over the users (`u`)
//! or groups (`g`) table. Filtering always happens in the database, never in memory; whatever
//! cannot be translated faithfully is refused with `invalidFilter` rather than ignored.
//!
//! Column-backed attributes (userName, externalId, active, displayName, name parts, meta dates)
//! compare against their columns, so `userName eq "…"` uses the per-tenant `user_name_key`
//! index. Every other attribute is read from the stored document (`attributes` jsonb), and
//! multi-valued ones element by element (`jsonb_path_query`). Memberships come from
//! `group_members`.

use scim_protocol::schema::{AttrOrigin, ResourceKind};
use scim_protocol::{AttrPath, AttrType, CompareOp, Filter, find_attribute};
use tenancy::directory::{Condition, SqlValue};

use crate::error::ScimError;

mod columns;
mod compare;
#[cfg(test)]
mod tests;

use columns::{
    column_for, document_keys, element_value, elements, invalid, membership_sub, unknown,
};

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
            // A uuid id column cannot be compared with '' (that is not a uuid).
            Target::Column { expr, .. } if expr.ends_with(".id") => {
                format!("({expr} IS NOT NULL)")
            }
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
}
