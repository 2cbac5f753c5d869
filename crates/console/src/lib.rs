//! The admin console (server-rendered askama pages under `/console`): admin sign-in with
//! server-side sessions and CSRF protection; Secure > Advanced > User and Group Sync with the
//! whole SCIM token lifecycle; Direct > Settings; users, groups and cards; CSV import as
//! background jobs; the provisioning activity log; and the OpenID sign-in settings.

pub mod assets;
pub mod client;
pub mod error;
pub mod form;
pub mod layout;
pub mod listing;
pub mod oidc;
pub mod page;
pub mod pages;
pub mod routes;
pub mod session;

pub use error::ConsoleError;
pub use pages::import::resume_unfinished as resume_imports;
pub use routes::configure;
