//! The enum-like text columns as Rust enums: written as their fixed spelling, and read back
//! strictly — a value the code does not know is a decode error, never a silent default (an
//! unknown `auth_type` once read as password sign-in).

use std::fmt;

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;

/// Declares an enum stored as text, with its spellings.
macro_rules! stored_enum {
    (
        $(#[$meta:meta])*
        $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = Text)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            /// The value with this stored spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl ToSql<Text, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
            }
        }

        impl FromSql<Text, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                Self::parse(&text).ok_or_else(|| {
                    format!("unknown {} {text:?} in the database", stringify!($name)).into()
                })
            }
        }
    };
}

stored_enum! {
    /// How a tenant's end users sign in. SCIM needs `OpenId`: provisioned users have no password.
    AuthType {
        /// Users sign in with a password held by Insights.
        Password = "password",
        /// Users sign in through the tenant's OpenID Connect provider.
        OpenId = "openid",
    }
}

stored_enum! {
    /// Where a user came from.
    UserSource {
        /// Provisioned by the identity provider over SCIM.
        Scim = "scim",
        /// Created by a CSV import.
        Import = "import",
        /// Created in the console.
        Console = "console",
    }
}

stored_enum! {
    /// Where a badge card came from.
    CardSource {
        /// A cards (or users) CSV import.
        Import = "import",
        /// Added in the console.
        Console = "console",
    }
}

stored_enum! {
    /// Why a SCIM token stopped being accepted before its time.
    RevokedReason {
        /// An admin revoked it.
        Revoked = "revoked",
        /// A newer token replaced it (first use of the new one, or the overlap ended).
        Replaced = "replaced",
    }
}

stored_enum! {
    /// What a CSV import does.
    ImportKind {
        /// Create or update users by userName.
        Users = "users",
        /// Add cards to existing users.
        Cards = "cards",
    }
}

stored_enum! {
    /// Where an import job is.
    ImportStatus {
        /// Stored, waiting for the worker.
        Queued = "queued",
        /// Being applied.
        Running = "running",
        /// Every row applied.
        Done = "done",
        /// Stopped by an error of its own (rows applied so far are kept).
        Failed = "failed",
    }
}

stored_enum! {
    /// What applying one row of an import did.
    RowResult {
        /// It created a user or a card.
        Created = "created",
        /// It updated a user.
        Updated = "updated",
        /// It failed; the row's message says why.
        Error = "error",
    }
}

stored_enum! {
    /// Why a request to a tenant's SCIM URL was refused before it reached the directory.
    RejectionReason {
        /// No `Authorization: Bearer` token, or a malformed one.
        MissingToken = "missing_token",
        /// A token that is not one of the tenant's (mistyped, another tenant's, made up).
        UnknownToken = "unknown_token",
        /// A token that was revoked or replaced.
        RevokedToken = "revoked_token",
        /// A token past its year.
        ExpiredToken = "expired_token",
        /// The operator has not switched SCIM on for the tenant.
        ScimDisabled = "scim_disabled",
        /// The tenant's sign-in type is not OpenID.
        SignInNotOpenId = "sign_in_not_openid",
        /// Too many failed authentications: answered 429.
        Throttled = "throttled",
    }
}

stored_enum! {
    /// Whom a SCIM token is for.
    TokenPurpose {
        /// The identity provider: generated in the console or by `insights token generate`.
        IdentityProvider = "identity_provider",
        /// The console's Test the connection, for minutes, and only for that.
        SelfTest = "self_test",
    }
}

stored_enum! {
    /// What a recorded SCIM request did, as the Activity log's Operation filter names it.
    EventOperation {
        /// POST of a user or group.
        Create = "create",
        /// PUT or PATCH that changed attributes.
        Update = "update",
        /// PUT or PATCH that set a user's `active` to false.
        Deactivate = "deactivate",
        /// PATCH that set a user's `active` to true.
        Reactivate = "reactivate",
        /// DELETE of a user or group.
        Delete = "delete",
        /// PATCH of a group's members.
        Membership = "membership",
        /// A read: one resource, a list, a filter or a `.search`.
        Lookup = "lookup",
        /// ServiceProviderConfig, Schemas or ResourceTypes.
        Discovery = "discovery",
        /// An admin's provisioning action in the console (pause, resume, undo, restore, link,
        /// revoke all tokens…): `method` is `CONSOLE`, `subject` the admin's address.
        Admin = "admin",
    }
}

stored_enum! {
    /// What happens the first time a SCIM user matches (by userName or e-mail) a user that SCIM
    /// does not manage (created by a CSV import or in the console).
    Adoption {
        /// Hold it for an admin's review: hidden from the identity provider's lookups, and its
        /// create answered 409 until the admin links them or keeps them separate.
        Ask = "ask",
        /// Link them at once: the existing user becomes SCIM-managed.
        Link = "link",
        /// Never link: the create is answered 409.
        Refuse = "refuse",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip_and_unknown_ones_are_refused() {
        for value in ImportStatus::ALL {
            assert_eq!(ImportStatus::parse(value.as_str()), Some(*value));
        }
        assert_eq!(AuthType::parse("openid"), Some(AuthType::OpenId));
        assert_eq!(AuthType::parse("OpenID"), None);
        assert_eq!(AuthType::parse("ldap"), None);
        assert_eq!(UserSource::Scim.to_string(), "scim");
    }
}

stored_enum! {
    /// What a notification tells the tenant's admins and endpoints (the webhook `type`).
    NotificationKind {
        /// The identity provider's token expires in 30, 14, 7 or 1 day(s).
        TokenExpiring = "token.expiring",
        /// It has expired: provisioning stopped.
        TokenExpired = "token.expired",
        /// A burst of requests with an unknown, revoked or expired token after a quiet period.
        ConnectionRejected = "connection.rejected",
        /// No request from the identity provider for 7, 30 or 60 days after it had connected.
        ConnectionSilent = "connection.silent",
        /// More deactivations or deletions within an hour than the tenant's threshold.
        DeprovisioningSpike = "deprovisioning.spike",
        /// Sent on demand from the console.
        Test = "test",
        /// A webhook endpoint failed for three days and was disabled (by e-mail only).
        EndpointDisabled = "endpoint.disabled",
    }
}

stored_enum! {
    /// How a notification is delivered.
    NotificationChannel {
        /// To one console admin's e-mail address.
        Email = "email",
        /// To one webhook endpoint, signed.
        Webhook = "webhook",
    }
}

stored_enum! {
    /// What a console admin may do. Each role may do everything the roles after it may.
    AdminRole {
        /// Everything, including managing the tenant's admins.
        Owner = "owner",
        /// Everything but managing admins.
        Admin = "admin",
        /// Reads users, groups, activity and health; changes nothing.
        Viewer = "viewer",
    }
}

impl AdminRole {
    /// Whether this role may do what `needed` may.
    pub fn includes(self, needed: AdminRole) -> bool {
        self.rank() >= needed.rank()
    }

    fn rank(self) -> u8 {
        match self {
            AdminRole::Viewer => 0,
            AdminRole::Admin => 1,
            AdminRole::Owner => 2,
        }
    }

    /// The role in words, as the console shows it.
    pub fn label(self) -> &'static str {
        match self {
            AdminRole::Owner => "Owner",
            AdminRole::Admin => "Admin",
            AdminRole::Viewer => "Viewer",
        }
    }
}

stored_enum! {
    /// Who may sign in to the console with a password.
    PasswordSignIn {
        /// Every password admin (the default).
        Everyone = "everyone",
        /// Owners only (break-glass); everyone else signs in through the identity provider.
        Owners = "owners",
    }
}

stored_enum! {
    /// An admin action of the audit log.
    AuditAction {
        /// Signed in to the console.
        SignIn = "sign_in",
        /// A sign-in was refused (the reason is in the detail).
        SignInFailed = "sign_in_failed",
        /// Signed out.
        SignOut = "sign_out",
        /// Changed their password.
        PasswordChanged = "password_changed",
        /// Generated or regenerated the SCIM token.
        TokenGenerated = "token_generated",
        /// Revoked one SCIM token.
        TokenRevoked = "token_revoked",
        /// Revoked every SCIM token at once.
        TokensRevokedAll = "tokens_revoked_all",
        /// Ran the connection self-test.
        ConnectionTested = "connection_tested",
        /// Changed the sign-in settings.
        SignInSettingsChanged = "sign_in_settings_changed",
        /// Changed the activity log's retention.
        RetentionChanged = "retention_changed",
        /// Changed the notification settings (endpoints, threshold) or sent a test.
        NotificationsChanged = "notifications_changed",
        /// Started a CSV import.
        ImportStarted = "import_started",
        /// Added a badge card.
        CardAdded = "card_added",
        /// Removed a badge card.
        CardRemoved = "card_removed",
        /// Invited an admin.
        AdminInvited = "admin_invited",
        /// Withdrew an invitation.
        InvitationRevoked = "invitation_revoked",
        /// Accepted an invitation and became an admin.
        InvitationAccepted = "invitation_accepted",
        /// Changed an admin's role.
        AdminRoleChanged = "admin_role_changed",
        /// Removed an admin.
        AdminRemoved = "admin_removed",
        /// An admin added by the operator's command line.
        AdminAdded = "admin_added",
        /// Paused provisioning.
        ProvisioningPaused = "provisioning_paused",
        /// Resumed provisioning.
        ProvisioningResumed = "provisioning_resumed",
        /// A provisioning-safety action: adoption, review, restore, breaker, shadow go-live.
        SafetyAction = "safety_action",
        /// Turned on two-step sign-in (TOTP) for their account.
        MfaEnabled = "mfa_enabled",
        /// Turned off two-step sign-in for their account.
        MfaDisabled = "mfa_disabled",
        /// Replaced their recovery codes.
        RecoveryCodesRenewed = "recovery_codes_renewed",
        /// Changed how admins sign in to the console (provider, passwords, MFA required).
        ConsoleSignInChanged = "console_sign_in_changed",
        /// Let a group grant a console role, or stopped it.
        GroupRoleChanged = "group_role_changed",
    }
}

impl AuditAction {
    /// The action in words, as the audit log shows it.
    pub fn label(self) -> &'static str {
        match self {
            AuditAction::SignIn => "Signed in",
            AuditAction::SignInFailed => "Sign-in refused",
            AuditAction::SignOut => "Signed out",
            AuditAction::PasswordChanged => "Password changed",
            AuditAction::TokenGenerated => "SCIM token generated",
            AuditAction::TokenRevoked => "SCIM token revoked",
            AuditAction::TokensRevokedAll => "All SCIM tokens revoked",
            AuditAction::ConnectionTested => "Connection tested",
            AuditAction::SignInSettingsChanged => "Sign-in settings changed",
            AuditAction::RetentionChanged => "Activity retention changed",
            AuditAction::NotificationsChanged => "Notifications changed",
            AuditAction::ImportStarted => "Import started",
            AuditAction::CardAdded => "Card added",
            AuditAction::CardRemoved => "Card removed",
            AuditAction::AdminInvited => "Admin invited",
            AuditAction::InvitationRevoked => "Invitation withdrawn",
            AuditAction::InvitationAccepted => "Invitation accepted",
            AuditAction::AdminRoleChanged => "Admin role changed",
            AuditAction::AdminRemoved => "Admin removed",
            AuditAction::AdminAdded => "Admin added by the operator",
            AuditAction::ProvisioningPaused => "Provisioning paused",
            AuditAction::ProvisioningResumed => "Provisioning resumed",
            AuditAction::SafetyAction => "Provisioning safety",
            AuditAction::MfaEnabled => "Two-step sign-in turned on",
            AuditAction::MfaDisabled => "Two-step sign-in turned off",
            AuditAction::RecoveryCodesRenewed => "Recovery codes replaced",
            AuditAction::ConsoleSignInChanged => "Console sign-in changed",
            AuditAction::GroupRoleChanged => "Group role changed",
        }
    }
}
