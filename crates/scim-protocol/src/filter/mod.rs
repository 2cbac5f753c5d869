//! The RFC 7644 §3.4.2.2 filter language: the syntax tree, its canonical text form, the parser
//! ([`parse_filter`]) and in-memory evaluation ([`matches()`]).

mod eval;
mod lexer;
mod parser;

#[cfg(test)]
mod eval_tests;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::fmt;

pub use crate::attr_path::AttrPath;
pub use eval::matches;
pub(crate) use parser::parse_patch_path;
pub use parser::{MAX_DEPTH, MAX_FILTER_LEN, parse_filter};

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `path op value`, e.g. `userName eq "bjensen"`.
    Compare {
        /// The attribute compared.
        path: AttrPath,
        /// The comparison operator.
        op: CompareOp,
        /// The literal compared against.
        value: CompValue,
    },
    /// `path pr`: the attribute has a non-empty value.
    Present(AttrPath),
    /// Both sides hold.
    And(Box<Filter>, Box<Filter>),
    /// Either side holds.
    Or(Box<Filter>, Box<Filter>),
    /// `not (…)`.
    Not(Box<Filter>),
    /// `path[filter]`: some element of a multi-valued attribute matches `filter`, whose paths are
    /// relative to the element (e.g. `emails[type eq "work"]`).
    ValuePath {
        /// The multi-valued attribute.
        path: AttrPath,
        /// The filter applied to each element.
        filter: Box<Filter>,
    },
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Contains (strings).
    Co,
    /// Starts with (strings).
    Sw,
    /// Ends with (strings).
    Ew,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
}

impl CompareOp {
    /// Every operator, in RFC order.
    pub const ALL: [CompareOp; 9] = [
        Self::Eq,
        Self::Ne,
        Self::Co,
        Self::Sw,
        Self::Ew,
        Self::Gt,
        Self::Ge,
        Self::Lt,
        Self::Le,
    ];

    /// The lower-case keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Co => "co",
            Self::Sw => "sw",
            Self::Ew => "ew",
            Self::Gt => "gt",
            Self::Ge => "ge",
            Self::Lt => "lt",
            Self::Le => "le",
        }
    }

    /// The operator for a keyword, ignoring case.
    pub fn from_keyword(word: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

/// The literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// A JSON string.
    Str(String),
    /// A JSON number.
    Number(serde_json::Number),
    /// `true` or `false`.
    Bool(bool),
    /// `null`.
    Null,
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // serde_json escapes exactly what the lexer un-escapes, so the text round-trips.
            Self::Str(s) => f.write_str(&serde_json::to_string(s).map_err(|_| fmt::Error)?),
            Self::Number(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::Null => f.write_str("null"),
        }
    }
}

/// Binding strength, used to print only the parentheses the parser needs.
const OR: u8 = 1;
const AND: u8 = 2;
const ATOM: u8 = 3;

impl Filter {
    fn precedence(&self) -> u8 {
        match self {
            Self::Or(..) => OR,
            Self::And(..) => AND,
            _ => ATOM,
        }
    }

    /// Prints `self` in a context that binds at least as tightly as `min`.
    fn write(&self, f: &mut fmt::Formatter<'_>, min: u8) -> fmt::Result {
        let parens = self.precedence() < min;
        if parens {
            f.write_str("(")?;
        }
        match self {
            Self::Compare { path, op, value } => write!(f, "{path} {} {value}", op.as_str())?,
            Self::Present(path) => write!(f, "{path} pr")?,
            // `and`/`or` parse left-associatively, so a right operand of the same strength
            // needs parentheses to come back as the same tree.
            Self::And(left, right) => {
                left.write(f, AND)?;
                f.write_str(" and ")?;
                right.write(f, ATOM)?;
            }
            Self::Or(left, right) => {
                left.write(f, OR)?;
                f.write_str(" or ")?;
                right.write(f, AND)?;
            }
            Self::Not(inner) => {
                f.write_str("not (")?;
                inner.write(f, OR)?;
                f.write_str(")")?;
            }
            Self::ValuePath { path, filter } => {
                write!(f, "{path}[")?;
                filter.write(f, OR)?;
                f.write_str("]")?;
            }
        }
        if parens {
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Display for Filter {
    /// The canonical text form: lower-case keywords, JSON-escaped strings and only the
    /// parentheses needed; [`parse_filter`] turns it back into the same tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, OR)
    }
}
