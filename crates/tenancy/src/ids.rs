//! Typed identifiers, so that a user id can never be passed where a tenant id belongs.

use std::fmt;
use std::str::FromStr;

use diesel_derive_newtype::DieselNewType;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, DieselNewType, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh random (v4) identifier.
            pub fn new_random() -> Self {
                Self(Uuid::new_v4())
            }

            /// The underlying UUID.
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }
    };
}

uuid_id!(
    /// A tenant: one customer organisation. Appears in the Tenant URL.
    TenantId
);
uuid_id!(
    /// A console administrator of one tenant.
    AdminId
);
uuid_id!(
    /// An invitation to become a console admin of one tenant.
    InvitationId
);
uuid_id!(
    /// One entry of a tenant's audit log.
    AuditId
);
uuid_id!(
    /// A provisioned user of one tenant (the SCIM User `id`).
    UserId
);
uuid_id!(
    /// A group of one tenant (the SCIM Group `id`).
    GroupId
);
uuid_id!(
    /// A SCIM bearer token (its record, never its secret).
    TokenId
);
uuid_id!(
    /// A badge card of one user.
    CardId
);
uuid_id!(
    /// A CSV import job of one tenant.
    ImportJobId
);
uuid_id!(
    /// A webhook endpoint of one tenant.
    EndpointId
);
uuid_id!(
    /// A notification decided for one tenant (sent on every channel).
    NotificationId
);
uuid_id!(
    /// One delivery of a notification on one channel.
    DeliveryId
);
