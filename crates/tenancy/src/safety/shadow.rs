//! Shadow go-live. Starting shadow mode copies the tenant's directory (users, groups,
//! memberships; not cards or sessions) into a shadow: a tenant row of its own, so that the SCIM
//! API answers from it exactly as it would live — the same ids, statuses, bodies, conflicts and
//! lookups that see the earlier shadow writes — while the directory, sessions and cards stay as
//! they are. The review compares the shadow with the directory for what the identity provider
//! touched (the shadow's activity log says which resources). **Go live** applies those changes
//! to the directory in one transaction, with the ids the identity provider already holds, and
//! drops the shadow; **Discard** only drops it. All of it runs as `CrossTenant::Shadow`.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text, Timestamptz, Uuid};
use serde_json::{Value, json};

use super::{Actor, deleted, record_admin_action};
use crate::error::{Error, Result};
use crate::ids::{TenantId, UserId};
use crate::schema::tenants;
use crate::stored::AuditAction;
use crate::stored::AuthType;

/// The columns of a user that a copy carries (not the generated ones).
const USER_COLUMNS: &str = "id, user_name, external_id, active, display_name, given_name, \
     family_name, email, source, attributes, oidc_subject, version, created_at, updated_at, \
     deactivated_at, linked_at, linked_by";
/// The columns of a group that a copy carries.
const GROUP_COLUMNS: &str =
    "id, display_name, external_id, attributes, version, created_at, updated_at";

fn copy_sql(table: &str, columns: &str) -> String {
    format!(
        "INSERT INTO {table} (tenant_id, {columns}) SELECT $2, {columns} FROM {table} WHERE tenant_id = $1"
    )
}

/// Starts shadow mode for `tenant`: makes its shadow with a copy of its directory. The
/// identity provider's next request is answered from the shadow (the change is announced).
pub fn start(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<TenantId> {
    crate::transaction(conn, |conn| {
        let row = crate::tenants::find_for_update(conn, tenant)?;
        if row.shadow_tenant_id.is_some() {
            return Err(Error::Invalid(
                "Shadow mode is on already: review the staged changes, then go live or discard them."
                    .into(),
            ));
        }
        if row.shadow_of.is_some() {
            return Err(Error::NotFound);
        }
        let shadow = TenantId::new_random();
        diesel::insert_into(tenants::table)
            .values((
                tenants::id.eq(shadow),
                tenants::name.eq(format!("{} (shadow)", row.name)),
                tenants::scim_enabled.eq(false),
                tenants::auth_type.eq(AuthType::Password),
                tenants::shadow_of.eq(tenant),
                tenants::created_at.eq(now),
                tenants::updated_at.eq(now),
            ))
            .execute(conn)?;
        for (table, columns) in [
            ("users", USER_COLUMNS),
            ("groups", GROUP_COLUMNS),
            ("group_members", "group_id, user_id, created_at"),
        ] {
            diesel::sql_query(copy_sql(table, columns))
                .bind::<Uuid, _>(tenant.as_uuid())
                .bind::<Uuid, _>(shadow.as_uuid())
                .execute(conn)?;
        }
        diesel::update(tenants::table.find(tenant))
            .set((
                tenants::shadow_tenant_id.eq(shadow),
                tenants::shadow_started_at.eq(now),
                tenants::shadow_started_by.eq(actor.name()),
            ))
            .execute(conn)?;
        crate::scim_tokens::announce(conn, tenant)?;
        record_admin_action(
            conn,
            tenant,
            actor,
            AuditAction::SafetyAction,
            "Started shadow mode",
            None,
            json!({}),
            now,
        )?;
        Ok(shadow)
    })
}

/// The tenant and its shadow, locked for the rest of the transaction; `NotFound` when the
/// tenant is not in shadow mode.
fn pair(conn: &mut PgConnection, tenant: TenantId) -> Result<(TenantId, TenantId)> {
    let row = crate::tenants::find_for_update(conn, tenant)?;
    let shadow = row.shadow_tenant_id.ok_or_else(|| {
        Error::Invalid("Shadow mode is not on (it went live or was discarded).".into())
    })?;
    Ok((tenant, shadow))
}

/// The ids of the resources of `kind` (`User` or `Group`) that the identity provider wrote in
/// the shadow.
fn touched(conn: &mut PgConnection, shadow: TenantId, kind: &str) -> Result<Vec<uuid::Uuid>> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = Uuid)]
        id: uuid::Uuid,
    }
    let ids: Vec<Id> = diesel::sql_query(
        "SELECT DISTINCT e.resource_id::uuid AS id FROM provisioning_events e \
         WHERE e.tenant_id = $1 AND e.resource_type = $2 AND e.status < 400 \
           AND e.method IN ('POST', 'PUT', 'PATCH', 'DELETE') \
           AND e.resource_id ~ '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'",
    )
    .bind::<Uuid, _>(shadow.as_uuid())
    .bind::<Text, _>(kind)
    .load(conn)?;
    Ok(ids.into_iter().map(|i| i.id).collect())
}

/// What a staged change does.
pub const KINDS: &[(&str, &str)] = &[
    ("create", "Users to create"),
    ("update", "Users to update"),
    ("deactivate", "Users to deactivate"),
    ("delete", "Users to delete"),
    ("link", "Existing users to link"),
    ("conflict", "Conflicts"),
    ("group_create", "Groups to create"),
    ("group_update", "Groups to update"),
    ("group_delete", "Groups to delete"),
];

/// Each touched user (`$3`) of the tenant (`$1`) and its shadow (`$2`), with what going live
/// would do to it.
const USER_CHANGES: &str = "SELECT coalesce(s.id, t.id) AS id, \
       CASE WHEN t.id IS NULL THEN \
              CASE WHEN EXISTS (SELECT 1 FROM users x WHERE x.tenant_id = $1 AND x.user_name_key = s.user_name_key) \
                   THEN 'conflict' ELSE 'create' END \
            WHEN s.id IS NULL THEN 'delete' \
            WHEN t.source <> 'scim' AND s.source = 'scim' THEN 'link' \
            WHEN t.active AND NOT s.active THEN 'deactivate' \
            WHEN (t.user_name, t.external_id, t.active, t.display_name, t.given_name, t.family_name, t.email, t.attributes) \
                 IS DISTINCT FROM (s.user_name, s.external_id, s.active, s.display_name, s.given_name, s.family_name, s.email, s.attributes) \
              THEN 'update' \
            ELSE 'unchanged' END AS kind, \
       coalesce(s.user_name, t.user_name) AS name, \
       CASE WHEN t.id IS NULL THEN NULL ELSE jsonb_build_object('userName', t.user_name, 'externalId', t.external_id, \
         'active', t.active, 'displayName', t.display_name, 'givenName', t.given_name, 'familyName', t.family_name, \
         'email', t.email, 'attributes', t.attributes) END AS live, \
       CASE WHEN s.id IS NULL THEN NULL ELSE jsonb_build_object('userName', s.user_name, 'externalId', s.external_id, \
         'active', s.active, 'displayName', s.display_name, 'givenName', s.given_name, 'familyName', s.family_name, \
         'email', s.email, 'attributes', s.attributes) END AS staged \
     FROM unnest($3::uuid[]) AS x(id) \
       LEFT JOIN users s ON s.tenant_id = $2 AND s.id = x.id \
       LEFT JOIN users t ON t.tenant_id = $1 AND t.id = x.id \
     WHERE s.id IS NOT NULL OR t.id IS NOT NULL";

/// The same for touched groups (`$3`).
const GROUP_CHANGES: &str = "SELECT coalesce(s.id, t.id) AS id, \
       CASE WHEN t.id IS NULL THEN \
              CASE WHEN EXISTS (SELECT 1 FROM groups x WHERE x.tenant_id = $1 AND x.display_name_key = s.display_name_key) \
                   THEN 'conflict' ELSE 'group_create' END \
            WHEN s.id IS NULL THEN 'group_delete' \
            WHEN (t.display_name, t.external_id, t.attributes) IS DISTINCT FROM (s.display_name, s.external_id, s.attributes) \
              OR EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = $2 AND m.group_id = s.id \
                   AND NOT EXISTS (SELECT 1 FROM group_members n WHERE n.tenant_id = $1 AND n.group_id = t.id AND n.user_id = m.user_id)) \
              OR EXISTS (SELECT 1 FROM group_members n WHERE n.tenant_id = $1 AND n.group_id = t.id \
                   AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = $2 AND m.group_id = s.id AND m.user_id = n.user_id)) \
              THEN 'group_update' \
            ELSE 'unchanged' END AS kind, \
       coalesce(s.display_name, t.display_name) AS name, \
       CASE WHEN t.id IS NULL THEN NULL ELSE jsonb_build_object('displayName', t.display_name, 'externalId', t.external_id, \
         'members', (SELECT count(*) FROM group_members n WHERE n.tenant_id = $1 AND n.group_id = t.id)) END AS live, \
       CASE WHEN s.id IS NULL THEN NULL ELSE jsonb_build_object('displayName', s.display_name, 'externalId', s.external_id, \
         'members', (SELECT count(*) FROM group_members m WHERE m.tenant_id = $2 AND m.group_id = s.id)) END AS staged \
     FROM unnest($3::uuid[]) AS x(id) \
       LEFT JOIN groups s ON s.tenant_id = $2 AND s.id = x.id \
       LEFT JOIN groups t ON t.tenant_id = $1 AND t.id = x.id \
     WHERE s.id IS NOT NULL OR t.id IS NOT NULL";

/// One staged change.
#[derive(Debug, Clone, QueryableByName)]
pub struct Change {
    /// The resource's id (the same live once applied).
    #[diesel(sql_type = Uuid)]
    pub id: uuid::Uuid,
    /// One of [`KINDS`].
    #[diesel(sql_type = Text)]
    pub kind: String,
    /// Its userName or displayName.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// The fields live now (`None`: not in the directory).
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub live: Option<Value>,
    /// The fields staged (`None`: deleted in the shadow).
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub staged: Option<Value>,
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The review of a shadow.
#[derive(Debug, Clone)]
pub struct Review {
    /// When the shadow started, and who started it.
    pub started: (DateTime<Utc>, String),
    /// Requests the identity provider sent to the shadow.
    pub requests: i64,
    /// How many changes of each kind (of [`KINDS`]); kinds with none are left out.
    pub counts: Vec<(String, i64)>,
    /// Membership changes: (added, removed).
    pub members: (i64, i64),
    /// The changes matching the search, at most the limit asked for.
    pub changes: Vec<Change>,
    /// Matches of users SCIM does not manage that wait for a review in the shadow.
    pub held_matches: i64,
}

/// The review: counts of every kind, membership changes, and up to `limit` changes matching
/// `search` (a part of a userName or displayName) and `kind`.
pub fn review(
    conn: &mut PgConnection,
    tenant: TenantId,
    search: Option<&str>,
    kind: Option<&str>,
    limit: i64,
) -> Result<Review> {
    let row = crate::tenants::find(conn, tenant)?;
    let shadow = row.shadow_tenant_id.ok_or(Error::NotFound)?;
    let users = touched(conn, shadow, "User")?;
    let groups = touched(conn, shadow, "Group")?;
    let counts_of =
        |conn: &mut PgConnection, sql: &str, ids: &[uuid::Uuid]| -> Result<Vec<Counted>> {
            Ok(diesel::sql_query(format!(
                "SELECT kind, count(*) AS n FROM ({sql}) c WHERE kind <> 'unchanged' GROUP BY kind"
            ))
            .bind::<Uuid, _>(tenant.as_uuid())
            .bind::<Uuid, _>(shadow.as_uuid())
            .bind::<Array<Uuid>, _>(ids)
            .load(conn)?)
        };
    let mut counted = counts_of(conn, USER_CHANGES, &users)?;
    counted.extend(counts_of(conn, GROUP_CHANGES, &groups)?);
    let mut counts: Vec<(String, i64)> = Vec::new();
    for (kind, _) in KINDS {
        let n: i64 = counted
            .iter()
            .filter(|c| c.kind == *kind)
            .map(|c| c.n)
            .sum();
        if n > 0 {
            counts.push(((*kind).to_owned(), n));
        }
    }
    #[derive(QueryableByName)]
    struct Members {
        #[diesel(sql_type = BigInt)]
        added: i64,
        #[diesel(sql_type = BigInt)]
        removed: i64,
    }
    let members: Members = diesel::sql_query(
        "SELECT (SELECT count(*) FROM group_members m WHERE m.tenant_id = $2 AND m.group_id = ANY($3) \
             AND NOT EXISTS (SELECT 1 FROM group_members n WHERE n.tenant_id = $1 AND n.group_id = m.group_id AND n.user_id = m.user_id)) AS added, \
           (SELECT count(*) FROM group_members n WHERE n.tenant_id = $1 AND n.group_id = ANY($3) \
             AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = $2 AND m.group_id = n.group_id AND m.user_id = n.user_id)) AS removed",
    )
    .bind::<Uuid, _>(tenant.as_uuid())
    .bind::<Uuid, _>(shadow.as_uuid())
    .bind::<Array<Uuid>, _>(&groups)
    .get_result(conn)?;
    let pattern = search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| format!("%{}%", crate::directory::query::escape_like(s)));
    let page = |conn: &mut PgConnection, sql: &str, ids: &[uuid::Uuid]| -> Result<Vec<Change>> {
        Ok(diesel::sql_query(format!(
            "SELECT * FROM ({sql}) c WHERE kind <> 'unchanged' AND ($4::text IS NULL OR name ILIKE $4) \
               AND ($5::text IS NULL OR kind = $5) ORDER BY kind, lower(name), id LIMIT $6"
        ))
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Uuid, _>(shadow.as_uuid())
        .bind::<Array<Uuid>, _>(ids)
        .bind::<Nullable<Text>, _>(pattern.as_deref())
        .bind::<Nullable<Text>, _>(kind)
        .bind::<BigInt, _>(limit)
        .load(conn)?)
    };
    let mut changes = page(conn, USER_CHANGES, &users)?;
    let room = limit - i64::try_from(changes.len()).unwrap_or(limit);
    if room > 0 {
        changes.extend(
            page(conn, GROUP_CHANGES, &groups)?
                .into_iter()
                .take(usize::try_from(room).unwrap_or(0)),
        );
    }
    let requests: i64 = crate::schema::provisioning_events::table
        .filter(crate::schema::provisioning_events::tenant_id.eq(shadow))
        .count()
        .get_result(conn)?;
    let held_matches: i64 = crate::schema::adoption_conflicts::table
        .filter(crate::schema::adoption_conflicts::tenant_id.eq(shadow))
        .filter(crate::schema::adoption_conflicts::decision.is_null())
        .count()
        .get_result(conn)?;
    Ok(Review {
        started: (
            row.shadow_started_at.unwrap_or(row.updated_at),
            row.shadow_started_by.unwrap_or_default(),
        ),
        requests,
        counts,
        members: (members.added, members.removed),
        changes,
        held_matches,
    })
}

/// What going live applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Applied {
    /// Users created.
    pub created: usize,
    /// Users updated (deactivations and links included).
    pub updated: usize,
    /// Users deleted (kept for restoring, like any deleted user).
    pub deleted: usize,
    /// Groups created.
    pub groups_created: usize,
    /// Groups updated.
    pub groups_updated: usize,
    /// Groups deleted.
    pub groups_deleted: usize,
    /// Memberships added.
    pub members_added: usize,
    /// Memberships removed.
    pub members_removed: usize,
    /// Events moved to the tenant's activity log.
    pub events: usize,
}

/// Applies the shadow's changes to the directory in one transaction, with the shadow's ids,
/// then drops the shadow. A staged user or group whose name a live one took meanwhile is
/// `Invalid`, with nothing applied.
pub fn go_live(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<Applied> {
    crate::transaction(conn, |conn| {
        let (tenant, shadow) = pair(conn, tenant)?;
        let users = touched(conn, shadow, "User")?;
        let groups = touched(conn, shadow, "Group")?;
        refuse_conflicts(conn, tenant, shadow, &users, &groups)?;
        let run = |conn: &mut PgConnection, sql: &str, ids: &[uuid::Uuid]| -> Result<usize> {
            Ok(diesel::sql_query(sql)
                .bind::<Uuid, _>(tenant.as_uuid())
                .bind::<Uuid, _>(shadow.as_uuid())
                .bind::<Array<Uuid>, _>(ids)
                .bind::<Timestamptz, _>(now)
                .execute(conn)?)
        };
        let mut applied = Applied::default();
        // Deletions first (they free userNames), kept for restoring as any deletion is.
        #[derive(QueryableByName)]
        struct Id {
            #[diesel(sql_type = Uuid)]
            id: uuid::Uuid,
        }
        let gone: Vec<Id> = diesel::sql_query(
            "SELECT t.id FROM users t WHERE t.tenant_id = $1 AND t.id = ANY($3) \
               AND NOT EXISTS (SELECT 1 FROM users s WHERE s.tenant_id = $2 AND s.id = t.id)",
        )
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Uuid, _>(shadow.as_uuid())
        .bind::<Array<Uuid>, _>(&users)
        .load(conn)?;
        let gone: Vec<UserId> = gone.into_iter().map(|g| UserId::from(g.id)).collect();
        applied.deleted = deleted::delete_many(conn, tenant, &gone, "scim", now)?;
        applied.updated = run(conn, UPDATE_USERS, &users)?;
        run(conn, END_SESSIONS, &users)?;
        applied.created = run(conn, &insert_new("users", USER_COLUMNS), &users)?;
        applied.groups_deleted = run(
            conn,
            "DELETE FROM groups t WHERE t.tenant_id = $1 AND t.id = ANY($3) AND $4 IS NOT NULL \
               AND NOT EXISTS (SELECT 1 FROM groups s WHERE s.tenant_id = $2 AND s.id = t.id)",
            &groups,
        )?;
        applied.groups_updated = run(conn, UPDATE_GROUPS, &groups)?;
        applied.groups_created = run(conn, &insert_new("groups", GROUP_COLUMNS), &groups)?;
        applied.members_removed = run(conn, REMOVE_MEMBERS, &groups)?;
        applied.members_added = run(conn, ADD_MEMBERS, &groups)?;
        applied.events = diesel::sql_query(
            "INSERT INTO provisioning_events (tenant_id, occurred_at, method, path, status, resource_type, \
               resource_id, token_id, duration_us, error, payload, operation, subject, response) \
             SELECT $1, occurred_at, method, path, status, resource_type, resource_id, token_id, \
               duration_us, error, payload, operation, subject, response \
             FROM provisioning_events WHERE tenant_id = $2 ORDER BY id",
        )
        .bind::<Uuid, _>(tenant.as_uuid())
        .bind::<Uuid, _>(shadow.as_uuid())
        .execute(conn)?;
        end_shadow(conn, tenant, shadow)?;
        record_admin_action(
            conn,
            tenant,
            actor,
            AuditAction::SafetyAction,
            "Went live from shadow mode",
            None,
            serde_json::to_value(applied).unwrap_or(Value::Null),
            now,
        )?;
        Ok(applied)
    })
}

/// Drops the shadow and everything staged in it. Whether the tenant was in shadow mode.
pub fn discard(
    conn: &mut PgConnection,
    tenant: TenantId,
    actor: Actor<'_>,
    now: DateTime<Utc>,
) -> Result<bool> {
    crate::transaction(conn, |conn| {
        let row = crate::tenants::find_for_update(conn, tenant)?;
        let Some(shadow) = row.shadow_tenant_id else {
            return Ok(false);
        };
        end_shadow(conn, tenant, shadow)?;
        record_admin_action(
            conn,
            tenant,
            actor,
            AuditAction::SafetyAction,
            "Discarded shadow mode",
            None,
            json!({}),
            now,
        )?;
        Ok(true)
    })
}

fn end_shadow(conn: &mut PgConnection, tenant: TenantId, shadow: TenantId) -> Result<()> {
    diesel::update(tenants::table.find(tenant))
        .set((
            tenants::shadow_tenant_id.eq(None::<TenantId>),
            tenants::shadow_started_at.eq(None::<DateTime<Utc>>),
            tenants::shadow_started_by.eq(None::<String>),
        ))
        .execute(conn)?;
    crate::tenants::delete(conn, shadow)?;
    crate::scim_tokens::announce(conn, tenant)
}

/// Staged users and groups whose userName or displayName a live one took meanwhile.
fn refuse_conflicts(
    conn: &mut PgConnection,
    tenant: TenantId,
    shadow: TenantId,
    users: &[uuid::Uuid],
    groups: &[uuid::Uuid],
) -> Result<()> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let names: Vec<Name> = diesel::sql_query(format!(
        "SELECT name FROM ({USER_CHANGES}) c WHERE kind = 'conflict' \
         UNION ALL SELECT name FROM ({}) g WHERE kind = 'conflict' LIMIT 6",
        GROUP_CHANGES.replace("$3", "$4")
    ))
    .bind::<Uuid, _>(tenant.as_uuid())
    .bind::<Uuid, _>(shadow.as_uuid())
    .bind::<Array<Uuid>, _>(users)
    .bind::<Array<Uuid>, _>(groups)
    .load(conn)?;
    if names.is_empty() {
        return Ok(());
    }
    let listed: Vec<String> = names.iter().take(5).map(|n| n.name.clone()).collect();
    Err(Error::Invalid(format!(
        "Nothing was applied: {}{} already exist{} in the directory under another id (created since shadow mode started). Rename or remove them in the directory or in your identity provider, or discard the shadow.",
        listed.join(", "),
        if names.len() > 5 { " and others" } else { "" },
        if names.len() == 1 { "s" } else { "" }
    )))
}

/// Inserts the touched rows of the shadow that the directory does not have, with their ids.
fn insert_new(table: &str, columns: &str) -> String {
    format!(
        "INSERT INTO {table} (tenant_id, {columns}) SELECT $1, {columns} FROM {table} s \
         WHERE s.tenant_id = $2 AND s.id = ANY($3) AND $4 IS NOT NULL \
           AND NOT EXISTS (SELECT 1 FROM {table} t WHERE t.tenant_id = $1 AND t.id = s.id)"
    )
}

/// The staged fields of the touched users the directory has, where they differ. The version
/// moves past both rows' (the directory's may have changed meanwhile).
const UPDATE_USERS: &str = "UPDATE users t SET user_name = s.user_name, external_id = s.external_id, \
     active = s.active, display_name = s.display_name, given_name = s.given_name, family_name = s.family_name, \
     email = s.email, attributes = s.attributes, source = s.source, linked_at = s.linked_at, \
     linked_by = s.linked_by, version = greatest(t.version + 1, s.version), updated_at = $4, \
     deactivated_at = s.deactivated_at \
     FROM users s WHERE t.tenant_id = $1 AND s.tenant_id = $2 AND s.id = t.id AND t.id = ANY($3) \
       AND (t.user_name, t.external_id, t.active, t.display_name, t.given_name, t.family_name, t.email, \
            t.attributes, t.source) IS DISTINCT FROM (s.user_name, s.external_id, s.active, s.display_name, \
            s.given_name, s.family_name, s.email, s.attributes, s.source)";

/// A deactivation going live signs the user out, as a live one does.
const END_SESSIONS: &str = "DELETE FROM sessions WHERE tenant_id = $1 AND $4 IS NOT NULL AND user_id IN (\
     SELECT id FROM users WHERE tenant_id = $1 AND id = ANY($3) AND NOT active)";

const UPDATE_GROUPS: &str = "UPDATE groups t SET display_name = s.display_name, external_id = s.external_id, \
     attributes = s.attributes, version = greatest(t.version + 1, s.version), updated_at = $4 \
     FROM groups s WHERE t.tenant_id = $1 AND s.tenant_id = $2 AND s.id = t.id AND t.id = ANY($3) \
       AND ((t.display_name, t.external_id, t.attributes) IS DISTINCT FROM (s.display_name, s.external_id, s.attributes) \
         OR EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = $2 AND m.group_id = s.id \
              AND NOT EXISTS (SELECT 1 FROM group_members n WHERE n.tenant_id = $1 AND n.group_id = t.id AND n.user_id = m.user_id)) \
         OR EXISTS (SELECT 1 FROM group_members n WHERE n.tenant_id = $1 AND n.group_id = t.id \
              AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = $2 AND m.group_id = s.id AND m.user_id = n.user_id)))";

const REMOVE_MEMBERS: &str = "DELETE FROM group_members n WHERE n.tenant_id = $1 AND n.group_id = ANY($3) \
     AND $4 IS NOT NULL \
     AND NOT EXISTS (SELECT 1 FROM group_members m WHERE m.tenant_id = $2 AND m.group_id = n.group_id AND m.user_id = n.user_id)";

const ADD_MEMBERS: &str = "INSERT INTO group_members (tenant_id, group_id, user_id, created_at) \
     SELECT $1, m.group_id, m.user_id, $4 FROM group_members m WHERE m.tenant_id = $2 AND m.group_id = ANY($3) \
       AND EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = $1 AND u.id = m.user_id) \
       AND EXISTS (SELECT 1 FROM groups g WHERE g.tenant_id = $1 AND g.id = m.group_id) \
     ON CONFLICT DO NOTHING";
