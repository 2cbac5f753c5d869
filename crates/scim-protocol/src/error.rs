//! The crate's errors: [`FilterError`] for unparsable filters and paths, [`PatchError`] for
//! PATCH requests. Their `Display` text is written for the IdP administrator who reads the SCIM
//! error `detail`, so it names the offending path, attribute or token.

/// A filter (or attribute path) that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    /// Character offset (0-based) in the input where the problem was found.
    pub position: usize,
    /// What was wrong and where, e.g. `unexpected token "qq" at position 9: expected an operator`.
    pub message: String,
}

impl FilterError {
    /// An error at `position` with the full human-readable `message`.
    pub fn new(position: usize, message: impl Into<String>) -> Self {
        Self {
            position,
            message: message.into(),
        }
    }

    /// The RFC 7644 §3.12 `scimType` for a bad `filter` query parameter.
    pub fn scim_type(&self) -> &'static str {
        "invalidFilter"
    }
}

/// Why a PATCH request could not be parsed or applied (RFC 7644 §3.5.2, §3.12).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    /// The request body is not a well-formed PatchOp message.
    #[error("invalid PATCH request: {0}")]
    InvalidSyntax(String),
    /// A `path` that does not parse or names no attribute we know.
    #[error("invalid path \"{path}\": {reason}")]
    InvalidPath {
        /// The path as the client sent it.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The operation has nothing to act on (no path on remove, or a filter that matched nothing).
    #[error("{reason}")]
    NoTarget {
        /// The path as the client sent it (empty when there was none).
        path: String,
        /// What was missing, naming the path.
        reason: String,
    },
    /// A value of the wrong type, or a required value being removed.
    #[error("invalid value for \"{attribute}\": {reason}")]
    InvalidValue {
        /// Canonical path of the attribute.
        attribute: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// A write to an attribute whose mutability forbids it.
    #[error("\"{attribute}\" cannot be modified: {reason}")]
    Mutability {
        /// Canonical path of the attribute.
        attribute: String,
        /// Which rule forbids it.
        reason: String,
    },
}

impl PatchError {
    /// The RFC 7644 §3.12 `scimType` for this error (all map to HTTP 400).
    pub fn scim_type(&self) -> &'static str {
        match self {
            Self::InvalidSyntax(_) => "invalidSyntax",
            Self::InvalidPath { .. } => "invalidPath",
            Self::NoTarget { .. } => "noTarget",
            Self::InvalidValue { .. } => "invalidValue",
            Self::Mutability { .. } => "mutability",
        }
    }

    pub(crate) fn invalid_path(path: &str, reason: impl Into<String>) -> Self {
        Self::InvalidPath {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn invalid_value(attribute: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidValue {
            attribute: attribute.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn mutability(attribute: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Mutability {
            attribute: attribute.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn no_target(path: &str, reason: impl Into<String>) -> Self {
        Self::NoTarget {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }
}
