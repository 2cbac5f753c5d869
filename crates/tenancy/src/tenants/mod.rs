//! Tenants: the customer organisations, their operator switches and their sign-in settings.

mod model;
mod repo;

pub use model::{AuthType, NewTenant, OpenIdSettings, TenantRow};
pub use repo::{
    create, delete, find, find_for_update, list, reseal_client_secrets, set_event_retention,
    set_openid, set_password_sign_in, set_scim_enabled,
};
