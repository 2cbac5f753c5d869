//! SCIM token lifecycle: issue, verify, expiry, revocation, overlap, retirement on first use.

use chrono::{DateTime, Duration, Utc};
use diesel::{PgConnection, RunQueryDsl as _};
use tenancy::scim_tokens::{self, DEFAULT_OVERLAP, Rejection, RevokedReason, TokenState};
use tenancy::tenants::{self, NewTenant};
use tenancy::{Error, TenantId};
use testkit::TestDb;

use crate::tenants::openid;

pub(crate) fn scim_tenant(conn: &mut PgConnection, name: &str) -> Result<TenantId, Error> {
    Ok(tenants::create(
        conn,
        &NewTenant {
            name: name.into(),
            scim_enabled: true,
            openid: Some(openid()),
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    )?
    .id)
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
        .map(|d| d.to_utc())
        .unwrap_or_default()
}

#[test]
fn issued_token_verifies_for_its_tenant_only() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let acme = scim_tenant(&mut conn, "Acme")?;
    let other = scim_tenant(&mut conn, "Other")?;

    let issued = scim_tokens::issue(&mut conn, acme, t0(), DEFAULT_OVERLAP)?;

    assert!(issued.token.starts_with("scim_") && issued.token.len() == 48);
    assert_eq!(issued.record.last4, issued.token[44..]);
    assert_eq!(issued.record.expires_at, t0() + Duration::days(365));
    let ok = scim_tokens::verify(&mut conn, acme, &issued.token, t0())?;
    assert!(matches!(ok, Ok(v) if v.tenant == acme && v.scim_enabled && v.openid));
    assert_eq!(
        scim_tokens::verify(&mut conn, other, &issued.token, t0())?,
        Err(Rejection::Unknown)
    );
    assert_eq!(
        scim_tokens::verify(&mut conn, acme, "non-token", t0())?,
        Err(Rejection::Unknown)
    );
    // One character changed (never to itself: a token may well end in `A`).
    let last = if issued.token.ends_with('A') {
        'B'
    } else {
        'A'
    };
    let altered = format!("{}{last}", &issued.token[..47]);
    assert_eq!(
        scim_tokens::verify(&mut conn, acme, &altered, t0())?,
        Err(Rejection::Unknown)
    );
    assert!(
        !format!("{issued:?}").contains(&issued.token),
        "Debug must redact the token"
    );
    Ok(())
}

#[test]
fn token_expires_one_year_after_issue() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let acme = scim_tenant(&mut conn, "Acme")?;
    let issued = scim_tokens::issue(&mut conn, acme, t0(), DEFAULT_OVERLAP)?;
    let expiry = issued.record.expires_at;

    let just_before = scim_tokens::verify(
        &mut conn,
        acme,
        &issued.token,
        expiry - Duration::seconds(1),
    )?;
    let at_expiry = scim_tokens::verify(&mut conn, acme, &issued.token, expiry)?;

    assert!(just_before.is_ok());
    assert_eq!(at_expiry, Err(Rejection::Expired));
    Ok(())
}

#[test]
fn revoked_token_is_refused_at_once() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let acme = scim_tenant(&mut conn, "Acme")?;
    let other = scim_tenant(&mut conn, "Other")?;
    let issued = scim_tokens::issue(&mut conn, acme, t0(), DEFAULT_OVERLAP)?;

    let cross_tenant = scim_tokens::revoke(&mut conn, other, issued.record.id, t0());
    let revoked = scim_tokens::revoke(
        &mut conn,
        acme,
        issued.record.id,
        t0() + Duration::minutes(5),
    )?;

    assert!(matches!(cross_tenant, Err(Error::NotFound)));
    assert!(matches!(
        revoked.state(t0() + Duration::minutes(6)),
        TokenState::Revoked {
            reason: RevokedReason::Revoked,
            ..
        }
    ));
    let later = scim_tokens::verify(&mut conn, acme, &issued.token, t0() + Duration::minutes(6))?;
    assert_eq!(later, Err(Rejection::Revoked));
    Ok(())
}

#[test]
fn previous_token_works_until_the_new_one_is_first_used() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let acme = scim_tenant(&mut conn, "Acme")?;
    let old = scim_tokens::issue(&mut conn, acme, t0(), DEFAULT_OVERLAP)?;
    scim_tokens::verify(&mut conn, acme, &old.token, t0())?.map_err(|_| Error::NotFound)?;

    let new = scim_tokens::issue(&mut conn, acme, t0() + Duration::days(1), DEFAULT_OVERLAP)?;
    let old_during_overlap =
        scim_tokens::verify(&mut conn, acme, &old.token, t0() + Duration::days(2))?;
    let new_first_use = scim_tokens::verify(&mut conn, acme, &new.token, t0() + Duration::days(3))?;
    let old_after_switch =
        scim_tokens::verify(&mut conn, acme, &old.token, t0() + Duration::days(3))?;

    assert_eq!(new.record.replaces_id, Some(old.record.id));
    assert!(old_during_overlap.is_ok());
    assert!(new_first_use.is_ok());
    assert_eq!(old_after_switch, Err(Rejection::Revoked));
    let rows = scim_tokens::list(&mut conn, acme, 10)?;
    assert_eq!(rows[0].id, new.record.id);
    assert_eq!(rows[0].first_used_at, Some(t0() + Duration::days(3)));
    assert!(matches!(
        rows[1].state(t0() + Duration::days(3)),
        TokenState::Revoked { reason: RevokedReason::Replaced, at } if at == t0() + Duration::days(3)
    ));
    Ok(())
}

#[test]
fn previous_token_stops_when_the_overlap_window_ends() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let acme = scim_tenant(&mut conn, "Acme")?;
    let old = scim_tokens::issue(&mut conn, acme, t0(), DEFAULT_OVERLAP)?;
    let regenerated_at = t0() + Duration::days(10);
    scim_tokens::issue(&mut conn, acme, regenerated_at, DEFAULT_OVERLAP)?;

    let inside = scim_tokens::verify(
        &mut conn,
        acme,
        &old.token,
        regenerated_at + DEFAULT_OVERLAP - Duration::seconds(1),
    )?;
    let after = scim_tokens::verify(
        &mut conn,
        acme,
        &old.token,
        regenerated_at + DEFAULT_OVERLAP,
    )?;

    assert!(inside.is_ok());
    assert_eq!(after, Err(Rejection::Revoked));
    Ok(())
}

#[test]
fn last_use_is_written_at_most_once_a_minute() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let acme = scim_tenant(&mut conn, "Acme")?;
    let issued = scim_tokens::issue(&mut conn, acme, t0(), DEFAULT_OVERLAP)?;
    let last_used = |conn: &mut PgConnection| -> Result<Option<DateTime<Utc>>, Error> {
        Ok(scim_tokens::list(conn, acme, 1)?[0].last_used_at)
    };

    scim_tokens::verify(&mut conn, acme, &issued.token, t0())?.map_err(|_| Error::NotFound)?;
    scim_tokens::verify(&mut conn, acme, &issued.token, t0() + Duration::seconds(30))?
        .map_err(|_| Error::NotFound)?;
    let after_30s = last_used(&mut conn)?;
    scim_tokens::verify(&mut conn, acme, &issued.token, t0() + Duration::seconds(61))?
        .map_err(|_| Error::NotFound)?;
    let after_61s = last_used(&mut conn)?;

    assert_eq!(after_30s, Some(t0()));
    assert_eq!(after_61s, Some(t0() + Duration::seconds(61)));
    Ok(())
}

#[test]
fn issuing_needs_scim_enabled_and_openid_sign_in() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let disabled = tenants::create(
        &mut conn,
        &NewTenant {
            name: "Off".into(),
            scim_enabled: false,
            openid: Some(openid()),
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    )?;
    let password_only = tenants::create(
        &mut conn,
        &NewTenant {
            name: "Pw".into(),
            scim_enabled: true,
            openid: None,
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    )?;

    let off = scim_tokens::issue(&mut conn, disabled.id, t0(), DEFAULT_OVERLAP);
    let pw = scim_tokens::issue(&mut conn, password_only.id, t0(), DEFAULT_OVERLAP);

    assert!(matches!(off, Err(Error::Invalid(m)) if m.contains("not enabled")));
    assert!(matches!(pw, Err(Error::Invalid(m)) if m.contains("OpenID")));
    assert!(scim_tokens::list(&mut conn, disabled.id, 10)?.is_empty());
    Ok(())
}

#[test]
fn no_table_holds_a_token_in_clear() -> Result<(), Error> {
    #[derive(diesel::QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let acme = scim_tenant(&mut conn, "Acme")?;
    let first = scim_tokens::issue(&mut conn, acme, t0(), DEFAULT_OVERLAP)?;
    let second = scim_tokens::issue(&mut conn, acme, t0() + Duration::hours(1), DEFAULT_OVERLAP)?;
    scim_tokens::verify(&mut conn, acme, &second.token, t0() + Duration::hours(2))?
        .map_err(|_| Error::NotFound)?;

    #[derive(diesel::QueryableByName)]
    struct Table {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
    }
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT table_name::text AS table_name FROM information_schema.tables WHERE table_schema = 'public'",
    )
    .load(&mut conn)?;
    assert!(
        tables.len() >= 10,
        "expected every table of the schema, got {}",
        tables.len()
    );
    for Table { table_name } in tables {
        for token in [&first.token, &second.token] {
            let secret = &token["scim_".len()..];
            let found: Found = diesel::sql_query(format!(
                "SELECT count(*) AS n FROM \"{table_name}\" t WHERE row_to_json(t)::text LIKE '%' || $1 || '%'"
            ))
            .bind::<diesel::sql_types::Text, _>(&secret[..20])
            .get_result(&mut conn)?;
            assert_eq!(found.n, 0, "table {table_name} holds a token in clear");
        }
    }
    Ok(())
}
