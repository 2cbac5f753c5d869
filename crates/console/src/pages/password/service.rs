//! Changing an admin's password: the rules, the check of the current password and the hash (on
//! a blocking thread, with no connection held), then one unit of database work that stores the
//! hash and ends the admin's other sessions.

use chrono::Utc;
use tenancy::admins::{self, AdminRow};
use tenancy::audit::{self, Actor};
use tenancy::password;
use tenancy::stored::AuditAction;
use tenancy::{Db, sessions};

use crate::error::ConsoleError;

/// Why a new password was refused, in words for the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The two new passwords differ.
    Mismatch,
    /// The new password breaks a rule (the message says which).
    Rule(String),
    /// The new password is the current one.
    Unchanged,
    /// The current password is wrong.
    WrongCurrent,
}

impl Refused {
    /// The message shown on the form.
    pub fn message(&self) -> String {
        match self {
            Refused::Mismatch => "The new passwords do not match.".into(),
            Refused::Rule(message) => message.clone(),
            Refused::Unchanged => "Choose a password different from the current one.".into(),
            Refused::WrongCurrent => "The current password is not right.".into(),
        }
    }
}

/// What the admin typed.
#[derive(Debug, Clone)]
pub struct NewPassword {
    /// The current password.
    pub current: String,
    /// The new one.
    pub new_password: String,
    /// The new one again.
    pub confirm: String,
}

/// Sets `admin`'s new password and ends their sessions other than `keep` (the SHA-256 of the
/// session the change was made in). `Ok(Err(..))` when the form is refused.
pub async fn change_password(
    db: &Db,
    admin: &AdminRow,
    typed: NewPassword,
    keep: Option<[u8; 32]>,
    actor: Actor,
) -> Result<Result<(), Refused>, ConsoleError> {
    if typed.new_password != typed.confirm {
        return Ok(Err(Refused::Mismatch));
    }
    if let Err(tenancy::Error::Invalid(message)) = password::check_new_password(&typed.new_password)
    {
        return Ok(Err(Refused::Rule(message)));
    }
    if typed.new_password == typed.current {
        return Ok(Err(Refused::Unchanged));
    }
    let Some(stored) = admin.password_hash.clone() else {
        return Err(ConsoleError::BadRequest(
            "You sign in through your identity provider: there is no password to change here."
                .into(),
        ));
    };
    // argon2 takes tens of milliseconds: on a blocking thread, with no connection held.
    let hashed = tokio::task::spawn_blocking(move || {
        if !password::verify_password(&typed.current, &stored) {
            return Ok(None);
        }
        password::hash_password(&typed.new_password).map(Some)
    })
    .await
    .map_err(|_| ConsoleError::Internal)??;
    let Some(hash) = hashed else {
        return Ok(Err(Refused::WrongCurrent));
    };
    let (tenant, id) = (admin.tenant_id, admin.id);
    db.run(tenant, move |conn| {
        tenancy::transaction(conn, |conn| -> Result<(), tenancy::Error> {
            let now = Utc::now();
            admins::set_password_hash(conn, tenant, id, &hash, now)?;
            // Whoever knew the old password is signed out everywhere else.
            let ended =
                sessions::delete_admin_sessions(conn, tenant, id, keep.as_ref().map(|h| &h[..]))?;
            audit::record(
                conn,
                tenant,
                &actor,
                AuditAction::PasswordChanged,
                None,
                serde_json::json!({ "other_sessions_ended": ended }),
                now,
            )
        })
    })
    .await?;
    Ok(Ok(()))
}
