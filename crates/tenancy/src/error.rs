//! The one error type of the storage layer, and how diesel and pool errors map onto it.
//!
//! The HTTP crates translate these variants into their own responses: `NotFound` to 404,
//! `Conflict` to 409, `Unavailable` to 503 with `Retry-After`, `Invalid` to 400 and `Db` to an
//! opaque 500. Every way of losing the database (a refused or dropped connection, a restart, a
//! timeout of ours) is `Unavailable`, never `Db`: an identity provider retries a 503 and gives
//! up on a 500.

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
    /// No database connection could be had in time (the pool or the tenant's share of it is
    /// exhausted, or the database is down), the connection was lost, or a statement ran into
    /// the statement or lock timeout.
    #[error("the database is unavailable")]
    Unavailable,
    /// The database aborted the work to resolve a deadlock or a serialisation conflict with
    /// concurrent work: trying again normally succeeds (see [`crate::db::retrying`]); if it
    /// reaches a client, it is answered like `Unavailable`.
    #[error("the work conflicted with concurrent work")]
    Contended,
    /// Any other database failure. Its cause is logged, never shown.
    #[error("database error")]
    Db(#[source] DieselError),
    /// A step of ours failed that no input can cause (hashing a password, a migration): the
    /// message is for the log and the operator, never for a person using the console or an
    /// identity provider, who see an internal error.
    #[error("{0}")]
    Internal(String),
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
            error if is_contended(&error) => Error::Contended,
            error if is_transient(&error) => {
                tracing::warn!(%error, "database unavailable");
                Error::Unavailable
            }
            other => Error::Db(other),
        }
    }
}

/// Whether the database aborted the statement to break a deadlock or a serialisation conflict.
fn is_contended(error: &DieselError) -> bool {
    match error {
        DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _) => true,
        DieselError::DatabaseError(_, info) => info.message().contains("deadlock detected"),
        _ => false,
    }
}

/// Whether a failure says the database is away or busy rather than that the request is wrong:
/// the connection was lost or refused (a restart, a failover), a timeout of ours stopped a
/// statement that waited too long, or the transaction lost a deadlock or serialisation race.
/// Retrying later can succeed, so the answer is 503 with `Retry-After`.
fn is_transient(error: &DieselError) -> bool {
    /// What PostgreSQL and libpq say for those cases (libpq exposes no SQLSTATE to diesel for
    /// most of them, and a lost connection has none).
    const TRANSIENT_MESSAGES: [&str; 12] = [
        "canceling statement due to statement timeout",
        "canceling statement due to lock timeout",
        "canceling statement due to user request",
        "deadlock detected",
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "connection to server",
        "the database system is",
        "could not serialize access",
    ];
    match error {
        DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure
            | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        ) => true,
        DieselError::DatabaseError(_, info) => {
            let message = info.message();
            TRANSIENT_MESSAGES
                .iter()
                .any(|transient| message.contains(transient))
        }
        // The connection's transaction state is unknown after a failure mid-way; it is
        // discarded, and the request may be retried on another.
        DieselError::BrokenTransactionManager => true,
        DieselError::RollbackErrorOnCommit { commit_error, .. } => is_transient(commit_error),
        _ => false,
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
