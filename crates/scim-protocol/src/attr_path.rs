//! Attribute paths (`[URI ":"] ATTRNAME ["." subAttr]`, RFC 7644 §3.4.2.2) shared by filters,
//! PATCH paths and schema lookup.

use std::fmt;
use std::str::FromStr;

use crate::error::FilterError;

/// An attribute path such as `userName`, `name.givenName` or
/// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`.
///
/// Names keep the spelling they were written in; [`crate::schema::find_attribute`] maps them to
/// canonical spelling.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// Schema URN prefix, without the trailing `:`.
    pub uri: Option<String>,
    /// Attribute name.
    pub attr: String,
    /// Sub-attribute name.
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A bare attribute name.
    pub fn new(attr: impl Into<String>) -> Self {
        Self {
            uri: None,
            attr: attr.into(),
            sub_attr: None,
        }
    }

    /// An attribute plus sub-attribute, e.g. `name.givenName`.
    pub fn with_sub(attr: impl Into<String>, sub: impl Into<String>) -> Self {
        Self {
            uri: None,
            attr: attr.into(),
            sub_attr: Some(sub.into()),
        }
    }

    /// This path qualified by a schema URN.
    pub fn in_schema(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }

    /// Splits one lexed word into a path, or says what is wrong with it.
    ///
    /// The URN is everything up to the last `:`, so that dotted versions such as `2.0` inside
    /// the URN never look like a sub-attribute separator.
    pub(crate) fn from_word(word: &str) -> Result<Self, String> {
        let (uri, rest) = match word.rfind(':') {
            Some(i) => (Some(&word[..i]), &word[i + 1..]),
            None => (None, word),
        };
        if let Some(uri) = uri
            && (uri.is_empty() || !uri.chars().all(is_word_char))
        {
            return Err(format!("\"{word}\" has an invalid schema URN prefix"));
        }
        let mut parts = rest.split('.');
        let attr = parts.next().unwrap_or_default();
        let sub = parts.next();
        if parts.next().is_some() {
            return Err(format!(
                "\"{word}\" has more than one sub-attribute; paths are attribute[.subAttribute]"
            ));
        }
        if !is_attr_name(attr) || sub.is_some_and(|s| !is_attr_name(s)) {
            return Err(format!("\"{word}\" is not a valid attribute name"));
        }
        Ok(Self {
            uri: uri.map(str::to_owned),
            attr: attr.to_owned(),
            sub_attr: sub.map(str::to_owned),
        })
    }

    /// Whether two paths name the same attribute, ignoring case.
    pub fn eq_ignore_case(&self, other: &Self) -> bool {
        fn opt_eq(a: Option<&String>, b: Option<&String>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
        }
        opt_eq(self.uri.as_ref(), other.uri.as_ref())
            && self.attr.eq_ignore_ascii_case(&other.attr)
            && opt_eq(self.sub_attr.as_ref(), other.sub_attr.as_ref())
    }
}

/// `ATTRNAME = ALPHA *(nameChar)`, plus a leading `$` so that `$ref` is a name.
pub(crate) fn is_attr_name(name: &str) -> bool {
    let rest = name.strip_prefix('$').unwrap_or(name);
    let mut chars = rest.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Characters that may appear inside an attribute path word (URN, names, dots).
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '$' | ':' | '.')
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl FromStr for AttrPath {
    type Err = FilterError;

    /// Parses a standalone path, e.g. one entry of an `attributes=` query parameter.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let trimmed = text.trim();
        if let Some((i, c)) = trimmed.chars().enumerate().find(|&(_, c)| !is_word_char(c)) {
            return Err(FilterError::new(
                i,
                format!("unexpected character \"{c}\" at position {i} in attribute path"),
            ));
        }
        Self::from_word(trimmed).map_err(|reason| FilterError::new(0, reason))
    }
}
