//! Operator commands of the `insights` binary.

use testkit::TestDb;

use crate::helpers::{insights, json_stdout};

#[test]
fn tenant_create_with_openid_then_token_generate_print_usable_values() {
    let test_db = TestDb::new();

    let created = json_stdout(&insights(
        test_db.url(),
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--scim",
            "--admin-email",
            "admin@acme.example",
            "--openid-issuer",
            "https://acme.example/",
            "--openid-client-id",
            "x",
            "--openid-client-secret",
            "y",
            "--json",
        ],
    ));
    let tenant = created["tenant_id"].as_str().unwrap_or_default().to_owned();
    let token = json_stdout(&insights(
        test_db.url(),
        &["token", "generate", "--tenant", &tenant, "--json"],
    ));

    assert_eq!(created["admin_email"], "admin@acme.example");
    assert_eq!(created["admin_password"].as_str().map(str::len), Some(20));
    assert_eq!(
        token["tenant_url"],
        format!("https://insights.example/scim/v2/{tenant}")
    );
    let secret = token["token"].as_str().unwrap_or_default().to_owned();
    assert!(
        secret.starts_with("scim_") && secret.len() == 48,
        "unexpected token {secret}"
    );
    let mut conn = test_db.connect();
    let verified = tenancy::scim_tokens::verify(
        &mut conn,
        tenant.parse().unwrap_or_else(|_| unreachable!()),
        &secret,
        chrono::Utc::now(),
    );
    assert!(
        matches!(verified, Ok(Ok(v)) if v.scim_enabled && v.openid),
        "the printed token must verify"
    );

    // The console's health line, for the operator. The token was just used once (verified
    // above), so the identity provider counts as connected.
    let status = json_stdout(&insights(
        test_db.url(),
        &["tenant", "status", &tenant, "--json"],
    ));
    assert_eq!(status["state"], "connected", "{status}");
    assert_eq!(status["level"], "green");
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Connected: last request just now")
    );
    assert!(status["token_expires_at"].is_string());
    let text = insights(test_db.url(), &["tenant", "status", &tenant]);
    assert!(String::from_utf8_lossy(&text.stdout).starts_with("green: Connected"));
    let unknown = insights(
        test_db.url(),
        &["tenant", "status", "00000000-0000-4000-8000-000000000000"],
    );
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("there is no tenant"));
}

#[test]
fn tenant_list_and_scim_switches() {
    let test_db = TestDb::new();
    let created = json_stdout(&insights(
        test_db.url(),
        &["tenant", "create", "--name", "Beta", "--json"],
    ));
    let tenant = created["tenant_id"].as_str().unwrap_or_default().to_owned();

    let enabled = insights(test_db.url(), &["tenant", "enable-scim", &tenant]);
    let listed = json_stdout(&insights(test_db.url(), &["tenant", "list", "--json"]));
    let disabled = insights(test_db.url(), &["tenant", "disable-scim", &tenant]);
    let listed_after = json_stdout(&insights(test_db.url(), &["tenant", "list", "--json"]));

    assert!(enabled.status.success());
    assert!(String::from_utf8_lossy(&enabled.stdout).contains("needs OpenID"));
    assert_eq!(listed[0]["name"], "Beta");
    assert_eq!(listed[0]["scim_enabled"], true);
    assert!(disabled.status.success());
    assert_eq!(listed_after[0]["scim_enabled"], false);
    assert_eq!(created["admin_email"], serde_json::Value::Null);
}

#[test]
fn bad_input_exits_non_zero_with_a_one_line_reason() {
    let test_db = TestDb::new();
    let password_tenant = json_stdout(&insights(
        test_db.url(),
        &["tenant", "create", "--name", "Pw", "--scim", "--json"],
    ));
    let password_tenant = password_tenant["tenant_id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let unknown = uuid::Uuid::new_v4().to_string();

    let cases: [(&[&str], &str); 5] = [
        (
            &["token", "generate", "--tenant", "nope"],
            "is not a tenant id",
        ),
        (
            &["token", "generate", "--tenant", &unknown],
            "there is no tenant",
        ),
        (
            &["token", "generate", "--tenant", &password_tenant],
            "OpenID",
        ),
        (
            &["tenant", "create", "--name", " "],
            "name must not be empty",
        ),
        (
            &["tenant", "create", "--name", "X", "--admin-email", "nobody"],
            "not an email address",
        ),
    ];

    for (args, expected) in cases {
        let output = insights(test_db.url(), args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?} should fail");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected {expected:?} in {stderr:?}"
        );
        assert_eq!(
            stderr.trim().lines().count(),
            1,
            "{args:?}: one line expected, got {stderr:?}"
        );
    }
    let listed = json_stdout(&insights(test_db.url(), &["tenant", "list", "--json"]));
    assert_eq!(
        listed.as_array().map(Vec::len),
        Some(1),
        "failed commands must create nothing"
    );
}

#[test]
fn admin_add_list_set_role_and_remove_manage_a_tenants_admins_and_are_audited() {
    let test_db = TestDb::new();
    let created = json_stdout(&insights(
        test_db.url(),
        &[
            "tenant",
            "create",
            "--name",
            "Acme",
            "--admin-email",
            "owner@acme.example",
            "--json",
        ],
    ));
    let tenant = created["tenant_id"].as_str().unwrap_or_default().to_owned();
    let added = json_stdout(&insights(
        test_db.url(),
        &[
            "admin",
            "add",
            "--tenant",
            &tenant,
            "--email",
            "vic@acme.example",
            "--role",
            "viewer",
            "--json",
        ],
    ));
    assert_eq!(added["role"], "viewer");
    assert_eq!(added["one_time_password"].as_str().map(str::len), Some(20));
    let listed = json_stdout(&insights(
        test_db.url(),
        &["admin", "list", "--tenant", &tenant, "--json"],
    ));
    let roles: Vec<(String, String)> = listed
        .as_array()
        .map(|rows| {
            rows.iter()
                .map(|r| {
                    (
                        r["email"].as_str().unwrap_or("").to_owned(),
                        r["role"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        roles,
        [
            ("owner@acme.example".to_owned(), "owner".to_owned()),
            ("vic@acme.example".to_owned(), "viewer".to_owned())
        ]
    );
    let promoted = json_stdout(&insights(
        test_db.url(),
        &[
            "admin",
            "set-role",
            "--tenant",
            &tenant,
            "--email",
            "VIC@acme.example",
            "--role",
            "owner",
            "--json",
        ],
    ));
    assert_eq!(promoted["role"], "owner");
    // The last owner cannot go; with two owners one can.
    let removed = insights(
        test_db.url(),
        &[
            "admin",
            "remove",
            "--tenant",
            &tenant,
            "--email",
            "owner@acme.example",
        ],
    );
    assert!(removed.status.success());
    let last = insights(
        test_db.url(),
        &[
            "admin",
            "remove",
            "--tenant",
            &tenant,
            "--email",
            "vic@acme.example",
        ],
    );
    assert!(!last.status.success());
    assert!(
        String::from_utf8_lossy(&last.stderr).contains("only owner"),
        "{last:?}"
    );
    let bad_role = insights(
        test_db.url(),
        &[
            "admin",
            "add",
            "--tenant",
            &tenant,
            "--email",
            "x@acme.example",
            "--role",
            "emperor",
        ],
    );
    assert!(!bad_role.status.success());

    let mut conn = test_db.connect();
    let id: tenancy::TenantId = tenant.parse().unwrap_or_else(|_| unreachable!());
    let audited = tenancy::audit::list(&mut conn, id, &tenancy::audit::AuditFilter::default(), 100)
        .unwrap_or_else(|e| panic!("{e}"));
    let actions: Vec<&str> = audited
        .iter()
        .rev()
        .map(|row| row.action.as_str())
        .collect();
    assert_eq!(
        actions,
        ["admin_added", "admin_role_changed", "admin_removed"]
    );
    assert!(audited.iter().all(|row| row.actor == "operator"));
}
