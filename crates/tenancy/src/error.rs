//! The one error type of the storage layer, and how diesel and pool errors map onto it.
//!
//! The HTTP crates translate these variants into their own responses: `NotFound` to 404,
//! `Conflict` to 409, `Unavailable` to 503, `Invalid` to 400 and `Db` to an opaque 500.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong while reading or writing tenant data.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The row does not exist in this tenant (or exists only in another tenant).
    #[error("not found")]
    NotFound,
    /// A unique constraint rejected the write; `constraint` names the index that did.
    #[error("conflicts with an existing row ({constraint})")]
    Conflict {
        /// The name of the violated unique index or constraint.
        constraint: String,
    },
    /// The input broke a rule of the data model; the message is fit to show to a person.
    #[error("{0}")]
    Invalid(String),
    /// No database connection could be had in time: the pool is exhausted or the database is down.
    #[error("the database is unavailable")]
    Unavailable,
    /// Any other database failure. Its cause is logged, never shown.
    #[error("database error")]
    Db(#[source] DieselError),
    /// The private PostgreSQL cluster could not be set up or started; the message says why
    /// and what to do.
    #[error("{0}")]
    Cluster(String),
    /// A blocking task failed to complete (it panicked or the runtime is shutting down).
    #[error("background task failed")]
    Task,
}

impl From<DieselError> for Error {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => Error::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                Error::Conflict {
                    constraint: info.constraint_name().unwrap_or("unique").to_owned(),
                }
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, _) => {
                Error::Unavailable
            }
            other => Error::Db(other),
        }
    }
}

impl From<diesel::r2d2::PoolError> for Error {
    fn from(_: diesel::r2d2::PoolError) -> Self {
        Error::Unavailable
    }
}

impl From<diesel::ConnectionError> for Error {
    fn from(_: diesel::ConnectionError) -> Self {
        Error::Unavailable
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
