//! The pgbench scripts. For each phase two scripts:
//!
//! - **bare**: the one statement issue 6 names (the ratio's denominator): a single-row INSERT
//!   (autocommit), an indexed select by `(tenant_id, user_name_key)`, a single-row UPDATE by
//!   id, the server's page query at a random deep offset, and 100 members in one
//!   `INSERT ... SELECT ... unnest` statement;
//! - **server**: the statements the server runs for the request, in the same transactions and
//!   round trips (`BEGIN` with the row-level security settings of tenant work, locks, the
//!   provisioning event, the user's groups, `COMMIT`), to tell
//!   the cost of the server's SQL apart from the cost of the server itself. The token check is
//!   left out: a server checks a token against the database once a minute, not per request.
//!   Events of reads are written by the server in batches; the scripts write one batch of
//!   [`READ_EVENT_BATCH`] events every [`READ_EVENT_BATCH`] transactions, at random.
//!
//! Member users are `member-<g>@example.com` with id `md5('member-' || g)::uuid`, so a script
//! can name any of them without a round trip. Variables: `:members` (how many exist),
//! `:maxoff` (the deepest page offset), `:clients` and `:n` (batch numbering for E; pgbench
//! keeps a client's variables from one transaction to the next).

use serde_json::Value;

use crate::okta;

/// What the scripts embed: the tenant, its token, and representative documents.
#[derive(Debug, Clone)]
pub struct Facts {
    /// Tenant id.
    pub tenant: String,
    /// The token's id.
    pub token_id: String,
}

const USER_COLUMNS: &str = "tenant_id, id, user_name, external_id, active, display_name, \
    given_name, family_name, email, source, attributes, created_at, updated_at";

/// The stored document of a created user, as the server stores it (no password, no groups).
fn stored_user_doc() -> String {
    let body = okta::create_user_body("pgb@example.com", 1);
    let mut doc: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    if let Some(map) = doc.as_object_mut() {
        map.remove("password");
        map.remove("groups");
    }
    doc.to_string()
}

/// A compact JSON text made safe inside a pgbench script, which reads `:name` as a variable
/// (`"active":true`, `urn:ietf:...`): colons inside strings become `\u003a` (the same JSON
/// value) and each structural colon gets a space after it.
fn literal(json: &str) -> String {
    json.replace(':', "\\u003a").replace("\"\\u003a", "\": ")
}

fn insert_user(f: &Facts) -> String {
    format!(
        "INSERT INTO users ({USER_COLUMNS}) VALUES ('{t}', gen_random_uuid(), \
         'pgb-' || gen_random_uuid() || '@example.com', '00u00000000000000001', true, 'Bench User1', \
         'Bench', 'User1', 'pgb@example.com', 'scim', '{doc}'::jsonb, now(), now())",
        t = f.tenant,
        doc = literal(&stored_user_doc()),
    )
}

fn event(f: &Facts, method: &str, path: &str, status: u16, kind: &str, payload: &str) -> String {
    format!(
        "INSERT INTO provisioning_events (tenant_id, occurred_at, method, path, status, resource_type, \
         resource_id, token_id, duration_us, error, payload, operation) VALUES ('{t}', now(), '{method}', '{path}', \
         {status}, '{kind}', gen_random_uuid()::text, '{tok}', 1500, NULL, '{payload}'::jsonb, \
         '{operation}');\n",
        operation = if method == "POST" { "create" } else { "update" },
        t = f.tenant,
        tok = f.token_id,
        payload = literal(payload),
    )
}

/// How every unit of tenant work begins (`tenancy::Db::run`): its transaction, the tenant role
/// and tenant for row-level security, and the limits. One round trip, as in the server.
fn begin_tenant(f: &Facts) -> String {
    format!(
        "BEGIN; SET LOCAL ROLE insights_tenant; SET LOCAL insights.tenant_id = '{}'; \
         SET LOCAL statement_timeout = 15000; SET LOCAL lock_timeout = 5000; \
         SET LOCAL idle_in_transaction_session_timeout = 30000;\n",
        f.tenant
    )
}

const MEMBER: &str = "md5('member-' || (:r)::int)::uuid";

/// How many read events the server's writer typically stores in one INSERT at these rates.
pub const READ_EVENT_BATCH: u32 = 32;

/// One batch of read events, in one statement, run in one transaction out of
/// [`READ_EVENT_BATCH`] (pgbench's `\if`), so that each read carries its share.
fn read_events(f: &Facts, path: &str, kind: &str) -> String {
    format!(
        "\\set k random(1, {READ_EVENT_BATCH})\n\\if :k = 1\n\
         INSERT INTO provisioning_events (tenant_id, occurred_at, method, path, status, resource_type, \
         resource_id, token_id, duration_us, error, payload, operation) SELECT '{t}', now(), 'GET', '{path}', 200, \
         '{kind}', NULL, '{tok}', 900, NULL, NULL, 'lookup' FROM generate_series(1, {READ_EVENT_BATCH});\n\\endif\n",
        t = f.tenant,
        tok = f.token_id,
    )
}

/// The lateral join that brings the groups of the user `u` into its row (`user_lookup.rs`).
fn groups_of_u() -> &'static str {
    "CROSS JOIN LATERAL (\
     SELECT COALESCE(array_agg(g.id ORDER BY g.display_name, g.id), '{}') AS group_ids, \
     COALESCE(array_agg(g.display_name ORDER BY g.display_name, g.id), '{}') AS group_names \
     FROM group_members gm JOIN groups g ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id \
     WHERE gm.tenant_id = u.tenant_id AND gm.user_id = u.id) m"
}

/// The server's read of one user with their groups in the same row (`user_lookup.rs`);
/// `tenant` is an SQL expression (a quoted literal, or `$1`).
fn user_with_groups(tenant: &str, condition: &str) -> String {
    format!(
        "SELECT u.*, m.group_ids, m.group_names FROM users u {} \
         WHERE u.tenant_id = {tenant} AND {condition};\n",
        groups_of_u()
    )
}

/// A, bare: one single-row INSERT into users of the tenant, autocommit.
pub fn a_bare(f: &Facts) -> String {
    format!("{};\n", insert_user(f))
}

/// A, as the server does it: the server's own statement (`users::INSERT_RECORDED`), the user
/// and its event in one data-modifying statement, with the request's values in place of the
/// parameters.
pub fn a_server(f: &Facts) -> String {
    let payload = okta::create_user_body("pgb@example.com", 1).replace("1mz050nq", "[redacted]");
    let payload: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
    let statement = with_values(
        &tenancy::directory::users::INSERT_RECORDED,
        &[
            &format!("'{}'::uuid", f.tenant),
            "gen_random_uuid()",
            "'pgb-' || gen_random_uuid() || '@example.com'",
            "'00u00000000000000001'",
            "true",
            "'Bench User1'",
            "'Bench'",
            "'User1'",
            "'pgb@example.com'",
            &format!("'{}'::jsonb", literal(&stored_user_doc())),
            "'scim'",
            "now()",
            &events_literal(f, "POST", "/Users", 201, Some(payload)),
            // Whether a user SCIM does not manage is matched by e-mail too (the default
            // adoption setting does).
            "true",
        ],
    );
    format!("{}{statement};\nCOMMIT;\n", begin_tenant(f))
}

/// `sql` with each `$n` replaced by `values[n - 1]` (the highest first, so that `$1` does not
/// match the start of `$13`).
fn with_values(sql: &str, values: &[&str]) -> String {
    let mut out = sql.to_owned();
    for (i, value) in values.iter().enumerate().rev() {
        out = out.replace(&format!("${}", i + 1), value);
    }
    out
}

/// The events parameter of a write, as the server builds it (`tenancy::events::NewEvent`), as
/// a literal.
fn events_literal(
    f: &Facts,
    method: &str,
    path: &str,
    status: i16,
    payload: Option<Value>,
) -> String {
    let event = tenancy::events::NewEvent {
        tenant_id: f.tenant.parse::<uuid::Uuid>().unwrap_or_default().into(),
        occurred_at: chrono::Utc::now(),
        method: method.into(),
        path: path.into(),
        status,
        resource_type: Some("User".into()),
        resource_id: Some("00000000-0000-0000-0000-00000000000a".into()),
        token_id: f.token_id.parse::<uuid::Uuid>().ok().map(Into::into),
        duration_us: 1500,
        error: None,
        payload,
        operation: if method == "POST" {
            tenancy::stored::EventOperation::Create
        } else {
            tenancy::stored::EventOperation::Update
        },
        subject: None,
        response: None,
    };
    let json = tenancy::events::events_json(&[event]).to_string();
    format!("'{}'::jsonb", literal(&json).replace('\'', "''"))
}

/// B, bare: the indexed select by `(tenant_id, user_name_key)`.
pub fn b_bare(f: &Facts) -> String {
    format!(
        "\\set r random(1, :members)\n\
         SELECT * FROM users WHERE tenant_id = '{}' AND user_name_key = lower('member-' || (:r)::int || '@example.com');\n",
        f.tenant
    )
}

/// B, as the server does it: the server's own statement
/// (`user_lookup::WITH_GROUPS_BY_USER_NAME`), the user by userName with their groups in one
/// row; its share of a batch of read events.
pub fn b_server(f: &Facts) -> String {
    let lookup = with_values(
        &tenancy::directory::user_lookup::WITH_GROUPS_BY_USER_NAME,
        &[
            &format!("'{}'::uuid", f.tenant),
            "'member-' || (:r)::int || '@example.com'",
        ],
    );
    format!(
        "\\set r random(1, :members)\n{}{lookup};\nCOMMIT;\n{}",
        begin_tenant(f),
        read_events(f, "/Users", "User"),
    )
}

fn groups_of(tenant: &str, ids: &str) -> String {
    format!(
        "SELECT gm.user_id, g.id, g.display_name FROM group_members gm JOIN groups g \
         ON g.tenant_id = gm.tenant_id AND g.id = gm.group_id WHERE gm.tenant_id = '{tenant}' \
         AND gm.user_id = ANY({ids}) ORDER BY g.display_name;\n"
    )
}

/// C, bare: a single-row UPDATE of `active` by id, autocommit.
pub fn c_bare(f: &Facts) -> String {
    format!(
        "\\set r random(1, :members)\n\
         UPDATE users SET active = false WHERE tenant_id = '{}' AND id = {MEMBER};\n",
        f.tenant
    )
}

/// C, as the server does it for a PATCH that only sets `active`: the server's own statement
/// (`user_active::SET_ACTIVE_RECORDED`), which updates the user, ends their sessions, records
/// the event and returns the user with their groups. It toggles `active` (the value is the
/// opposite of the stored one, read by an uncorrelated subquery that runs once per use), so
/// that every run changes the row as every deactivation of phase C does.
pub fn c_server(f: &Facts) -> String {
    let t = &f.tenant;
    let flipped =
        format!("(SELECT NOT active FROM users WHERE tenant_id = '{t}' AND id = {MEMBER})");
    let body: Value = serde_json::from_str(&okta::deactivate_body()).unwrap_or(Value::Null);
    let statement = with_values(
        &tenancy::directory::user_active::SET_ACTIVE_RECORDED,
        &[
            &format!("'{t}'::uuid"),
            MEMBER,
            &flipped,
            "now()",
            &events_literal(f, "PATCH", "/Users/x", 200, Some(body)),
            // The members are SCIM's own users: whether others may be written does not matter.
            "false",
        ],
    );
    format!(
        "\\set r random(1, :members)\n{}{statement};\nCOMMIT;\n",
        begin_tenant(f)
    )
}

fn page_ids(t: &str) -> String {
    format!(
        "SELECT u.id FROM users u WHERE u.tenant_id = '{t}' AND (TRUE) ORDER BY u.id ASC LIMIT 100 OFFSET :off"
    )
}

/// D, bare: the server's page query (deferred join) at a random offset.
pub fn d_bare(f: &Facts) -> String {
    let t = &f.tenant;
    format!(
        "\\set off random(0, :maxoff)\n\
         SELECT o.* FROM ({}) p JOIN users o ON o.tenant_id = '{t}' AND o.id = p.id ORDER BY o.id ASC;\n",
        page_ids(t)
    )
}

/// D, as the server does it: the page query; the page's users' groups; its share of a batch
/// of read events.
pub fn d_server(f: &Facts) -> String {
    format!(
        "{}{}{}COMMIT;\n{}",
        begin_tenant(f),
        d_bare(f),
        groups_of(&f.tenant, &format!("ARRAY({})", page_ids(&f.tenant))),
        read_events(f, "/Users", "User"),
    )
}

const BATCH: &str = "\\set n :n + 1\n\\set b :n * :clients + :client_id\n\
                     \\set lo :b * 100 + 1\n\\set hi :lo + 99\n";

fn batch_ids() -> &'static str {
    "ARRAY(SELECT md5('member-' || g)::uuid FROM generate_series((:lo)::int, (:hi)::int) AS g)"
}

/// E, bare: 100 members in one `INSERT ... SELECT ... unnest` statement, autocommit.
pub fn e_bare(f: &Facts, group: &str) -> String {
    format!(
        "{BATCH}INSERT INTO group_members (tenant_id, group_id, user_id) SELECT '{}', '{group}', m \
         FROM unnest({}) AS m ON CONFLICT DO NOTHING;\n",
        f.tenant,
        batch_ids()
    )
}

/// E, as the server does it: BEGIN; the group; the members exist; the insert;
/// the group's version (row lock until COMMIT); event; COMMIT.
pub fn e_server(f: &Facts, group: &str) -> String {
    let t = &f.tenant;
    let members: Vec<(String, String)> = (1..=100)
        .map(|g| (format!("{:032x}", g), crate::seed::member_name(g)))
        .collect();
    let payload = okta::add_members_body(&members);
    format!(
        "{BATCH}{begin}\
         SELECT * FROM groups WHERE tenant_id = '{t}' AND id = '{group}';\n\
         SELECT id FROM users WHERE tenant_id = '{t}' AND id = ANY({ids});\n\
         INSERT INTO group_members (tenant_id, group_id, user_id) SELECT '{t}', '{group}', m \
         FROM unnest({ids}) AS m ON CONFLICT DO NOTHING;\n\
         UPDATE groups SET version = version + 1, updated_at = now() WHERE tenant_id = '{t}' AND id = '{group}' RETURNING *;\n\
         {}COMMIT;\n",
        event(f, "PATCH", "/Groups/x", 204, "Group", &payload),
        begin = begin_tenant(f),
        ids = batch_ids(),
    )
}

/// The server's B query for one userName, for `EXPLAIN` (`$1` is the tenant).
pub fn b_page_query(user_name: &str) -> String {
    user_with_groups("$1", &format!("u.user_name_key = lower('{user_name}')"))
        .trim_end()
        .trim_end_matches(';')
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pgbench replaces every `:name`: only the variables the runner defines may appear.
    #[test]
    fn scripts_name_only_known_variables() {
        let f = Facts {
            tenant: "00000000-0000-0000-0000-000000000001".into(),
            token_id: "00000000-0000-0000-0000-000000000002".into(),
        };
        let group = "00000000-0000-0000-0000-000000000003";
        let known = [
            "r",
            "members",
            "maxoff",
            "off",
            "n",
            "b",
            "clients",
            "client_id",
            "lo",
            "hi",
            "k",
        ];
        for script in [
            a_bare(&f),
            a_server(&f),
            b_bare(&f),
            b_server(&f),
            c_bare(&f),
            c_server(&f),
            d_bare(&f),
            d_server(&f),
            e_bare(&f, group),
            e_server(&f, group),
        ] {
            let bytes = script.as_bytes();
            for (i, _) in script.match_indices(':') {
                let after = &script[i + 1..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let cast = bytes.get(i + 1) == Some(&b':') || (i > 0 && bytes[i - 1] == b':');
                if name.is_empty() || cast {
                    continue;
                }
                assert!(
                    known.contains(&name.as_str()),
                    "unknown variable :{name} in {script}"
                );
            }
        }
    }

    #[test]
    fn literal_keeps_the_json_value() -> anyhow::Result<()> {
        let json =
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"active":false}"#;
        let text = literal(json);
        assert!(!text.contains(":f") && !text.contains(":i"));
        let back: Value = serde_json::from_str(&text)?;
        assert_eq!(back, serde_json::from_str::<Value>(json)?);
        Ok(())
    }
}
