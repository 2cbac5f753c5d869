//! Telling a tenant's admins before provisioning breaks: the worker that decides what to send
//! (`tenancy::notifications`) and sends it — e-mail over SMTP ([`mail`]) and webhooks signed
//! the Standard Webhooks way ([`webhook`], [`signature`]) — with retries, off every request
//! path.

pub mod error;
pub mod mail;
pub mod message;
pub mod signature;
pub mod webhook;
pub mod worker;

pub use error::NotifyError;
pub use mail::{MailSettings, Mailer};
pub use worker::{Notifier, NotifierSettings};
