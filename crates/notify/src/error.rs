//! The notify crate's one error type.

/// What can go wrong configuring or sending notifications.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// `INSIGHTS_SMTP_URL` or `INSIGHTS_MAIL_FROM` cannot be used (the reason in plain words).
    #[error("{0}")]
    Settings(String),
    /// The database work of the worker failed.
    #[error(transparent)]
    Storage(#[from] tenancy::Error),
}
