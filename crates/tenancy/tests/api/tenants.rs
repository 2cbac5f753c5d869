//! Tenants and admins.

use tenancy::stored::EventOperation;
use tenancy::tenants::{self, NewTenant, OpenIdSettings};
use tenancy::{Error, admins, password};
use testkit::TestDb;

pub fn openid() -> OpenIdSettings {
    OpenIdSettings {
        issuer: "https://acme.example/".into(),
        client_id: "client".into(),
        client_secret: "secret".into(),
    }
}

#[test]
fn create_find_and_list_tenants() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();

    let acme = tenants::create(
        &mut conn,
        &NewTenant {
            name: " Acme ".into(),
            scim_enabled: true,
            openid: Some(openid()),
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    )?;
    let other = tenants::create(
        &mut conn,
        &NewTenant {
            name: "Other".into(),
            scim_enabled: false,
            openid: None,
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    )?;

    assert_eq!(acme.name, "Acme");
    assert!(acme.scim_usable());
    assert!(!other.scim_usable());
    assert_eq!(tenants::find(&mut conn, acme.id)?.name, "Acme");
    let names: Vec<String> = tenants::list(&mut conn)?
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["Acme", "Other"]);
    assert!(
        !format!("{acme:?}").contains("secret\""),
        "Debug must redact the client secret"
    );
    Ok(())
}

#[test]
fn bad_tenant_input_is_refused_with_a_reason() {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();

    let empty = tenants::create(
        &mut conn,
        &NewTenant {
            name: "  ".into(),
            scim_enabled: false,
            openid: None,
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    );
    let bad_issuer = tenants::create(
        &mut conn,
        &NewTenant {
            name: "X".into(),
            scim_enabled: true,
            openid: Some(OpenIdSettings {
                issuer: "acme".into(),
                ..openid()
            }),
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    );

    assert!(matches!(empty, Err(Error::Invalid(m)) if m.contains("name")));
    assert!(matches!(bad_issuer, Err(Error::Invalid(m)) if m.contains("issuer")));
    assert!(tenants::list(&mut conn).is_ok_and(|t| t.is_empty()));
}

#[test]
fn unknown_tenant_is_not_found() {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    assert!(matches!(
        tenants::find(&mut conn, tenancy::TenantId::new_random()),
        Err(Error::NotFound)
    ));
}

#[test]
fn admin_gets_a_one_time_password_that_verifies() -> Result<(), Error> {
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let tenant = tenants::create(
        &mut conn,
        &NewTenant {
            name: "Acme".into(),
            scim_enabled: false,
            openid: None,
        },
        &tenancy::sealed::SecretKeys::for_tests(),
    )?;

    let (admin, one_time) =
        admins::create_with_one_time_password(&mut conn, tenant.id, "Admin@Acme.example")?;
    let duplicate =
        admins::create_with_one_time_password(&mut conn, tenant.id, "admin@acme.example");

    assert!(admin.must_change_password);
    assert!(password::verify_password(
        &one_time,
        admin.password_hash.as_deref().unwrap_or_default()
    ));
    assert!(
        matches!(&duplicate, Err(Error::Invalid(m)) if m.contains("already an admin")),
        "{duplicate:?}"
    );
    let found = admins::find_by_email(&mut conn, "ADMIN@acme.example")?;
    assert_eq!(found.len(), 1);
    assert_eq!(
        admins::tenants_of_email(&mut conn, " ADMIN@acme.example ")?,
        vec![(tenant.id, admin.id)],
        "sign-in finds the tenant in the e-mail directory, once (the duplicate left no entry)"
    );
    assert_eq!(
        admins::find(&mut conn, tenant.id, admin.id)?.email,
        "Admin@Acme.example"
    );
    assert!(matches!(
        admins::create_with_one_time_password(&mut conn, tenant.id, "not-an-email"),
        Err(Error::Invalid(_))
    ));
    Ok(())
}

#[test]
fn a_deleted_tenant_takes_its_activity_along_and_leaves_others_alone() -> Result<(), Error> {
    use diesel::RunQueryDsl as _;
    use tenancy::events::{self, NewEvent};

    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let create = |conn: &mut diesel::PgConnection, name: &str| {
        tenants::create(
            conn,
            &NewTenant {
                name: name.into(),
                scim_enabled: true,
                openid: Some(openid()),
            },
            &tenancy::sealed::SecretKeys::for_tests(),
        )
        .map(|t| t.id)
    };
    let (gone, kept) = (create(&mut conn, "Gone")?, create(&mut conn, "Kept")?);
    let event = |tenant| NewEvent {
        tenant_id: tenant,
        occurred_at: chrono::Utc::now(),
        method: "GET".into(),
        path: "/Users".into(),
        status: 200,
        resource_type: Some("User".into()),
        resource_id: None,
        token_id: None,
        duration_us: 10,
        error: None,
        payload: None,
        operation: EventOperation::Lookup,
        subject: None,
        response: None,
    };
    assert_eq!(
        events::insert_many(&mut conn, &[event(gone), event(gone), event(kept)])?,
        3
    );

    assert!(tenancy::tenants::delete(&mut conn, gone)?);
    assert!(!tenancy::tenants::delete(&mut conn, gone)?, "already gone");

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let count = |conn: &mut diesel::PgConnection, tenant| -> Result<i64, Error> {
        Ok(diesel::sql_query(format!(
            "SELECT count(*) AS n FROM provisioning_events WHERE tenant_id = '{tenant}'"
        ))
        .get_result::<Count>(conn)?
        .n)
    };
    assert_eq!(count(&mut conn, gone)?, 0);
    assert_eq!(count(&mut conn, kept)?, 1);
    Ok(())
}

#[test]
fn the_client_secret_is_stored_sealed_and_resealed_after_a_key_rotation() -> Result<(), Error> {
    use diesel::prelude::*;
    use tenancy::schema::tenants as table;
    use tenancy::sealed::SecretKeys;

    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let keys = SecretKeys::for_tests();
    let acme = tenants::create(
        &mut conn,
        &NewTenant {
            name: "Acme".into(),
            scim_enabled: true,
            openid: Some(openid()),
        },
        &keys,
    )?;
    let stored = |conn: &mut PgConnection| -> Result<String, Error> {
        Ok(table::table
            .find(acme.id)
            .select(table::oidc_client_secret)
            .first::<Option<String>>(conn)?
            .unwrap_or_default())
    };
    let sealed = stored(&mut conn)?;
    assert!(
        sealed.starts_with("v1:") && !sealed.contains("secret"),
        "{sealed}"
    );
    assert_eq!(
        acme.client_secret(&keys).ok().flatten().as_deref(),
        Some("secret")
    );

    // A secret from before encryption at rest, and a key rotation.
    diesel::update(table::table.find(acme.id))
        .set(table::oidc_client_secret.eq("stored-in-clear"))
        .execute(&mut conn)?;
    assert_eq!(tenants::reseal_client_secrets(&mut conn, &keys)?, 1);
    let new_key = SecretKeys::generate_hex();
    let rotated =
        SecretKeys::from_hex(&new_key, &[tenancy::sealed::TEST_KEY_HEX]).map_err(Error::Invalid)?;
    assert_eq!(tenants::reseal_client_secrets(&mut conn, &rotated)?, 1);
    assert_eq!(
        tenants::reseal_client_secrets(&mut conn, &rotated)?,
        0,
        "once"
    );
    let row = tenants::find(&mut conn, acme.id)?;
    assert_eq!(
        row.client_secret(&rotated).ok().flatten().as_deref(),
        Some("stored-in-clear")
    );
    assert!(
        row.client_secret(&keys).is_err(),
        "the old key alone no longer opens it"
    );
    Ok(())
}

#[test]
fn an_unknown_stored_value_is_a_decode_error_not_a_default() {
    use diesel::prelude::*;
    use tenancy::stored::AuthType;

    #[derive(diesel::QueryableByName, Debug)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        auth_type: AuthType,
    }
    let test_db = TestDb::new();
    let mut conn = test_db.connect();
    let known: Result<Row, _> =
        diesel::sql_query("SELECT 'openid'::text AS auth_type").get_result(&mut conn);
    assert_eq!(known.map(|r| r.auth_type).ok(), Some(AuthType::OpenId));
    let unknown: Result<Row, _> =
        diesel::sql_query("SELECT 'ldap'::text AS auth_type").get_result(&mut conn);
    let error = unknown.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(error.contains("unknown AuthType \"ldap\""), "{error}");
}
