//! Two-step sign-in for password admins (TOTP, RFC 6238, with the `totp-rs` crate): the sealed
//! secret through enrolment, codes checked against a given clock and never accepted twice,
//! and ten single-use recovery codes of which only the SHA-256 is kept.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde_json::json;
use totp_rs::{Algorithm, Builder, Secret, Totp};

use super::model::{AdminRow, totp_secret_owner};
use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::ids::{AdminId, TenantId};
use crate::schema::{admin_recovery_codes, admins};
use crate::sealed::SecretKeys;
use crate::secret::{random_from, sha256};
use crate::stored::AuditAction;

/// Recovery codes per enrolment.
pub const RECOVERY_CODES: usize = 10;
/// Lower-case letters and digits without the ones read alike (0/o, 1/l/i): 31 symbols.
const RECOVERY_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
/// Symbols per recovery code (about 59 bits), shown in groups of four.
const RECOVERY_LENGTH: usize = 12;
/// Bytes of a new TOTP secret (160 bits, as RFC 4226 recommends).
const SECRET_BYTES: usize = 20;

/// The TOTP generator of a base32 secret: six digits, 30-second steps, SHA-1 (what every
/// authenticator app supports), one step of clock skew either way.
fn generator(secret_base32: &str, issuer: &str, account: &str) -> Result<Totp> {
    let secret = Secret::try_from_base32(secret_base32)
        .map_err(|_| Error::Invalid("The two-step secret is damaged; set it up again.".into()))?;
    // `:` separates issuer and account in the otpauth label: not allowed in either.
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| Error::Invalid(format!("The two-step secret cannot be used ({e}).")))
}

/// A new random secret in base32, as authenticator apps take it typed.
pub fn new_secret() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::fill(&mut bytes);
    Secret::from(bytes.to_vec()).to_base32()
}

/// The `otpauth://` URI an authenticator app scans (it holds the secret: show it only to the
/// admin enrolling, never store or log it).
pub fn enrolment_uri(secret_base32: &str, issuer: &str, account: &str) -> Result<String> {
    generator(secret_base32, issuer, account)?
        .to_url()
        .map_err(|e| Error::Invalid(format!("The two-step secret cannot be shown ({e}).")))
}

/// The time step a typed code matches at `now` (allowing one step of skew), if any. Spaces
/// in the code are ignored.
pub fn matching_step(secret_base32: &str, code: &str, now: DateTime<Utc>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = generator(secret_base32, "Insights", "admin").ok()?;
    let seconds = u64::try_from(now.timestamp()).ok()?;
    totp.check(&code, seconds)
        .and_then(|step| i64::try_from(step).ok())
}

/// The code for `now`: for tests and the benchmark, which play the authenticator app.
pub fn code_at(secret_base32: &str, now: DateTime<Utc>) -> Option<String> {
    let totp = generator(secret_base32, "Insights", "admin").ok()?;
    let seconds = u64::try_from(now.timestamp()).ok()?;
    Some(totp.generate(seconds).to_string())
}

/// The admin's TOTP secret in base32, opened with `keys`; `None` before enrolment started.
pub fn secret_of(admin: &AdminRow, keys: &SecretKeys) -> Result<Option<String>> {
    admin
        .totp_secret
        .as_deref()
        .map(|sealed| {
            keys.open(&totp_secret_owner(admin.tenant_id, admin.id), sealed)
                .map_err(|error| {
                    tracing::error!(tenant_id = %admin.tenant_id, admin_id = %admin.id, %error, "cannot open a TOTP secret");
                    Error::Invalid(
                        "The two-step secret cannot be opened; ask an owner to reset it.".into(),
                    )
                })
        })
        .transpose()
}

/// Starts (or restarts) enrolment with a new secret, stored sealed; nothing changes at sign-in
/// until [`enable`] confirms a code from it. Refused while two-step sign-in is on.
pub fn begin_enrolment(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    keys: &SecretKeys,
    now: DateTime<Utc>,
) -> Result<String> {
    let secret = new_secret();
    let updated = diesel::update(
        admins::table
            .find((tenant, admin))
            .filter(admins::totp_enabled_at.is_null())
            .filter(admins::user_id.is_null()),
    )
    .set((
        admins::totp_secret.eq(keys.seal(&totp_secret_owner(tenant, admin), &secret)),
        admins::totp_last_step.eq(None::<i64>),
        admins::updated_at.eq(now),
    ))
    .execute(conn)?;
    if updated == 0 {
        return Err(Error::Invalid(
            "Two-step sign-in is already on for your account.".into(),
        ));
    }
    Ok(secret)
}

/// Accepts time step `step` for `admin` unless it, or a later one, was accepted already (a
/// replayed code). Atomic: two requests with the same code cannot both pass.
pub fn accept_step(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    step: i64,
) -> Result<bool> {
    let updated = diesel::update(
        admins::table.find((tenant, admin)).filter(
            admins::totp_last_step
                .is_null()
                .or(admins::totp_last_step.lt(step)),
        ),
    )
    .set(admins::totp_last_step.eq(step))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Turns two-step sign-in on once a code from the new secret was accepted (`step`), and
/// returns the recovery codes, to be shown once; with the audit entry.
pub fn enable(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    step: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    crate::db::transaction(conn, |conn| {
        if !accept_step(conn, tenant, admin, step)? {
            return Err(Error::Invalid(
                "That code was used already. Wait for the next one.".into(),
            ));
        }
        let enabled = diesel::update(
            admins::table
                .find((tenant, admin))
                .filter(admins::totp_enabled_at.is_null())
                .filter(admins::totp_secret.is_not_null()),
        )
        .set((admins::totp_enabled_at.eq(now), admins::updated_at.eq(now)))
        .execute(conn)?;
        if enabled == 0 {
            return Err(Error::Invalid(
                "Two-step sign-in is already on, or its setup was not started.".into(),
            ));
        }
        let codes = replace_recovery_codes(conn, tenant, admin, now)?;
        audit::record(
            conn,
            tenant,
            actor,
            AuditAction::MfaEnabled,
            None,
            json!({}),
            now,
        )?;
        Ok(codes)
    })
}

/// New recovery codes in place of the old ones (used or not); with the audit entry.
pub fn renew_recovery_codes(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    crate::db::transaction(conn, |conn| {
        let codes = replace_recovery_codes(conn, tenant, admin, now)?;
        audit::record(
            conn,
            tenant,
            actor,
            AuditAction::RecoveryCodesRenewed,
            None,
            json!({}),
            now,
        )?;
        Ok(codes)
    })
}

fn replace_recovery_codes(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    diesel::delete(
        admin_recovery_codes::table
            .filter(admin_recovery_codes::tenant_id.eq(tenant))
            .filter(admin_recovery_codes::admin_id.eq(admin)),
    )
    .execute(conn)?;
    let codes: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw = random_from(RECOVERY_ALPHABET, RECOVERY_LENGTH);
            format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
        })
        .collect();
    let rows: Vec<_> = codes
        .iter()
        .map(|code| {
            (
                admin_recovery_codes::tenant_id.eq(tenant),
                admin_recovery_codes::admin_id.eq(admin),
                admin_recovery_codes::code_hash.eq(sha256(&normalised(code)).to_vec()),
                admin_recovery_codes::created_at.eq(now),
            )
        })
        .collect();
    diesel::insert_into(admin_recovery_codes::table)
        .values(&rows)
        .execute(conn)?;
    Ok(codes)
}

/// A typed recovery code as stored: lower case, without spaces or dashes.
fn normalised(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether `code` looks like a recovery code (rather than a six-digit TOTP code).
pub fn is_recovery_code(code: &str) -> bool {
    normalised(code).len() == RECOVERY_LENGTH
}

/// Spends the recovery code `code` if it is one of `admin`'s unused codes.
pub fn use_recovery_code(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    code: &str,
    now: DateTime<Utc>,
) -> Result<bool> {
    let used = diesel::update(
        admin_recovery_codes::table
            .find((tenant, admin, sha256(&normalised(code)).to_vec()))
            .filter(admin_recovery_codes::used_at.is_null()),
    )
    .set(admin_recovery_codes::used_at.eq(now))
    .execute(conn)?;
    Ok(used == 1)
}

/// How many of `admin`'s recovery codes are still unused.
pub fn recovery_codes_left(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
) -> Result<i64> {
    Ok(admin_recovery_codes::table
        .filter(admin_recovery_codes::tenant_id.eq(tenant))
        .filter(admin_recovery_codes::admin_id.eq(admin))
        .filter(admin_recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Turns two-step sign-in off and forgets the secret and the recovery codes; with the audit
/// entry (`actor` may be the admin, or the operator resetting a lost device).
pub fn disable(
    conn: &mut PgConnection,
    tenant: TenantId,
    admin: AdminId,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    crate::db::transaction(conn, |conn| {
        let row = super::find(conn, tenant, admin)?;
        diesel::update(admins::table.find((tenant, admin)))
            .set((
                admins::totp_secret.eq(None::<String>),
                admins::totp_enabled_at.eq(None::<DateTime<Utc>>),
                admins::totp_last_step.eq(None::<i64>),
                admins::updated_at.eq(now),
            ))
            .execute(conn)?;
        diesel::delete(
            admin_recovery_codes::table
                .filter(admin_recovery_codes::tenant_id.eq(tenant))
                .filter(admin_recovery_codes::admin_id.eq(admin)),
        )
        .execute(conn)?;
        if row.has_mfa() {
            audit::record(
                conn,
                tenant,
                actor,
                AuditAction::MfaDisabled,
                Some(&row.email),
                json!({}),
                now,
            )?;
        }
        Ok(())
    })
}

/// Seals again every TOTP secret sealed with a previous key (after a key rotation), as
/// [`crate::tenants::reseal_client_secrets`] does for client secrets. Cross-tenant: at start-up.
pub fn reseal_totp_secrets(conn: &mut PgConnection, keys: &SecretKeys) -> Result<usize> {
    let stored: Vec<(TenantId, AdminId, Option<String>)> = admins::table
        .filter(admins::totp_secret.is_not_null())
        .select((admins::tenant_id, admins::id, admins::totp_secret))
        .load(conn)?;
    let mut sealed = 0;
    for (tenant, admin, value) in stored {
        let Some(value) = value.filter(|v| keys.needs_resealing(v)) else {
            continue;
        };
        let owner = totp_secret_owner(tenant, admin);
        let clear = match keys.open(&owner, &value) {
            Ok(clear) => clear,
            Err(error) => {
                tracing::error!(%tenant, %admin, %error, "a TOTP secret cannot be opened; set the key that sealed it in INSIGHTS_PREVIOUS_SECRET_KEYS");
                continue;
            }
        };
        diesel::update(admins::table.find((tenant, admin)))
            .set(admins::totp_secret.eq(keys.seal(&owner, &clear)))
            .execute(conn)?;
        sealed += 1;
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238's SHA-1 test secret ("12345678901234567890") in base32.
    const RFC_SECRET: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(seconds, 0).unwrap_or_default()
    }

    #[test]
    fn codes_match_the_rfc_6238_vectors_with_a_fixed_clock() {
        // RFC 6238 appendix B, SHA-1, the last six of its eight digits.
        for (seconds, code) in [
            (59, "287082"),
            (1_111_111_109, "081804"),
            (1_234_567_890, "005924"),
            (2_000_000_000, "279037"),
        ] {
            assert_eq!(code_at(RFC_SECRET, at(seconds)).as_deref(), Some(code));
            assert_eq!(
                matching_step(RFC_SECRET, code, at(seconds)),
                Some(seconds / 30)
            );
        }
    }

    #[test]
    fn one_step_of_skew_is_allowed_and_no_more() {
        let code = "081804"; // step 37037036
        assert_eq!(
            matching_step(RFC_SECRET, code, at(1_111_111_109 + 30)),
            Some(37_037_036)
        );
        assert_eq!(
            matching_step(RFC_SECRET, code, at(1_111_111_109 - 30)),
            Some(37_037_036)
        );
        assert_eq!(
            matching_step(RFC_SECRET, code, at(1_111_111_109 + 90)),
            None
        );
    }

    #[test]
    fn malformed_codes_match_nothing() {
        for code in ["", "12345", "1234567", "08180a", "٠٨١٨٠٤"] {
            assert_eq!(matching_step(RFC_SECRET, code, at(1_111_111_109)), None);
        }
        assert_eq!(
            matching_step(RFC_SECRET, "081 804", at(1_111_111_109)),
            Some(37_037_036)
        );
    }

    #[test]
    fn a_new_secret_is_160_bits_and_round_trips() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let now = Utc::now();
        let code = code_at(&secret, now).unwrap_or_default();
        assert!(matching_step(&secret, &code, now).is_some());
        let uri = enrolment_uri(&secret, "Insights: Acme", "ann@acme.example").unwrap_or_default();
        assert!(uri.starts_with("otpauth://totp/"), "{uri}");
        assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    }

    #[test]
    fn recovery_codes_are_recognised_and_normalised() {
        assert!(is_recovery_code("abcd-efgh-jkmn"));
        assert!(is_recovery_code("ABCD EFGH JKMN"));
        assert!(!is_recovery_code("123456"));
        assert_eq!(normalised("AbCd-eFgh jkmn"), "abcdefghjkmn");
    }
}
