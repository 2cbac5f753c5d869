//! Notifications before provisioning breaks: what is decided to be sent ([`occasions`]: token
//! expiry, a burst of rejected tokens, silence, a deprovisioning spike, a test), to whom
//! ([`endpoints`] and the tenant's admins), and the queue of deliveries with their retries
//! ([`deliveries`]). Sending itself (SMTP, signed webhooks) is the `notify` crate's.
//!
//! Exactly once: a notification is a row with a unique key per tenant, kind and occasion,
//! inserted with `ON CONFLICT DO NOTHING`; only the insert that wins queues its deliveries, in
//! the same transaction, however many servers notice the occasion at once.

pub mod deliveries;
pub mod endpoints;
pub mod occasions;

pub use deliveries::{Attempt, DeliveryRow, Due, Outcome};
pub use endpoints::EndpointRow;
pub use occasions::{Decided, Occasion, SpikeThreshold};
