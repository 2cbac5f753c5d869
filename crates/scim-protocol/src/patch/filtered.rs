//! Writes and removals through a value filter, e.g. `emails[type eq "work"].value` or
//! `members[value eq "2819c223"]`.

use serde_json::{Map, Value};

use super::PatchOpKind;
use super::elements::{array_slot, merge_into, seed_from_filter, settle_primary, without_nulls};
use super::value::{coerce, coerce_element};
use super::write::{drop_if_empty, set_sub};
use crate::attr_path::AttrPath;
use crate::error::PatchError;
use crate::filter::{Filter, matches};
use crate::json::{get_canonical_mut, remove_ci};
use crate::schema::Attribute;

/// A path with a value filter, e.g. `emails[type eq "work"].value`.
pub(super) struct Filtered<'a> {
    pub(super) attr: &'static Attribute,
    pub(super) filter: &'a Filter,
    pub(super) sub: Option<&'static Attribute>,
    pub(super) raw: &'a str,
    pub(super) name: &'a str,
}

impl Filtered<'_> {
    fn matching(&self, items: &[Value]) -> Vec<usize> {
        let attr = self.attr;
        let case_exact = |p: &AttrPath| attr.sub_attribute(&p.attr).is_some_and(|s| s.case_exact);
        (0..items.len())
            .filter(|&i| {
                items
                    .get(i)
                    .is_some_and(|item| matches(self.filter, item, case_exact))
            })
            .collect()
    }

    fn no_target(&self) -> PatchError {
        PatchError::no_target(
            self.raw,
            format!(
                "the filter in \"{}\" matched no value of \"{}\"",
                self.raw, self.attr.name
            ),
        )
    }

    pub(super) fn write(
        &self,
        container: &mut Map<String, Value>,
        op: PatchOpKind,
        value: Value,
    ) -> Result<(), PatchError> {
        let items = array_slot(container, self.attr.name)?;
        let matched = self.matching(items);
        if matched.is_empty() {
            if op != PatchOpKind::Add {
                return Err(self.no_target());
            }
            let element = self.seeded_element(value)?;
            items.push(element);
            let last = items.len().checked_sub(1);
            settle_primary(items, last);
            return Ok(());
        }
        let value = match self.sub {
            Some(sub) => coerce(sub, self.name, value)?,
            None => coerce_element(self.attr, self.name, value)?,
        };
        for &i in &matched {
            let Some(item) = items.get_mut(i) else {
                continue;
            };
            match (self.sub, op) {
                (Some(sub), _) => {
                    if let Some(obj) = item.as_object_mut() {
                        set_sub(obj, sub, &value, self.name)?;
                    }
                }
                (None, PatchOpKind::Add) => merge_into(self.attr, item, value.clone()),
                (None, _) => *item = without_nulls(value.clone()),
            }
        }
        if self.sub.is_none() && value.is_null() && op == PatchOpKind::Replace {
            // Replacing the matched elements with nothing removes them.
            remove_indices(items, &matched);
        }
        settle_primary(items, matched.last().copied());
        drop_if_empty(container, self.attr.name);
        Ok(())
    }

    /// The element an `add` creates when nothing matched: the filter's `eq` comparisons plus
    /// the value.
    fn seeded_element(&self, value: Value) -> Result<Value, PatchError> {
        let Some(mut seed) = seed_from_filter(self.filter) else {
            return Err(PatchError::no_target(
                self.raw,
                format!(
                    "the filter in \"{}\" matched no value of \"{}\", and only \"eq\" comparisons joined by \"and\" can describe a new one",
                    self.raw, self.attr.name
                ),
            ));
        };
        match (self.sub, value) {
            (Some(sub), value) => {
                seed.insert(sub.name.to_owned(), value);
            }
            (None, Value::Object(obj)) => seed.extend(obj),
            (None, Value::Null) => {}
            (None, other) => {
                return Err(PatchError::invalid_value(
                    self.name,
                    format!("expected a JSON object, got {other}"),
                ));
            }
        }
        Ok(without_nulls(coerce_element(
            self.attr,
            self.name,
            Value::Object(seed),
        )?))
    }

    pub(super) fn remove(&self, container: &mut Map<String, Value>) -> Result<(), PatchError> {
        let Some(Value::Array(items)) = get_canonical_mut(container, self.attr.name) else {
            return Err(self.no_target());
        };
        let matched = self.matching(items);
        if matched.is_empty() {
            return Err(self.no_target());
        }
        match self.sub {
            Some(sub) => {
                for &i in &matched {
                    if let Some(Value::Object(obj)) = items.get_mut(i) {
                        remove_ci(obj, sub.name);
                    }
                }
            }
            None => remove_indices(items, &matched),
        }
        drop_if_empty(container, self.attr.name);
        Ok(())
    }
}

fn remove_indices(items: &mut Vec<Value>, indices: &[usize]) {
    let mut i = 0;
    items.retain(|_| {
        let keep = !indices.contains(&i);
        i += 1;
        keep
    });
}
