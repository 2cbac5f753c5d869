-- Row-level security: the second wall between tenants. Every query already filters on
-- tenant_id; the database now enforces it again for all tenant-scoped work, which runs inside a
-- transaction as the role `insights_tenant` with `insights.tenant_id` set by `SET LOCAL`
-- (tenancy::Db::run). The role has no BYPASSRLS and owns nothing, so the policies below apply
-- to it without exception. The few cross-tenant paths (operator commands, maintenance, the
-- sign-in lookup) run as the role that owns the tables, through a separately named function.

-- Roles belong to the whole cluster, so another database's migrations may have created it.
DO $$
BEGIN
    CREATE ROLE insights_tenant NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;
END
$$;
-- The role that runs the migrations (normally the one the server signs in as) may assume it.
GRANT insights_tenant TO CURRENT_USER;

-- The tenant of the current transaction; NULL (no rows at all) when none is set.
CREATE FUNCTION insights_tenant_id() RETURNS uuid
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT NULLIF(current_setting('insights.tenant_id', true), '')::uuid
$$;

-- Under row-level security a condition that passes a column to a function which is not
-- LEAKPROOF (lower() is not) cannot use an index ahead of the policy, so case-insensitive
-- lookups would scan the whole tenant. The folded values become stored columns, indexed and
-- compared directly: `user_name_key = lower($1)`.
ALTER TABLE users ADD COLUMN user_name_key text NOT NULL GENERATED ALWAYS AS (lower(user_name)) STORED;
ALTER TABLE users ADD COLUMN email_key text GENERATED ALWAYS AS (lower(email)) STORED;
ALTER TABLE groups ADD COLUMN display_name_key text NOT NULL GENERATED ALWAYS AS (lower(display_name)) STORED;

DROP INDEX users_tenant_user_name_key;
CREATE UNIQUE INDEX users_tenant_user_name_key ON users (tenant_id, user_name_key);
DROP INDEX users_tenant_email_idx;
CREATE INDEX users_tenant_email_idx ON users (tenant_id, email_key);
DROP INDEX groups_tenant_display_name_key;
CREATE UNIQUE INDEX groups_tenant_display_name_key ON groups (tenant_id, display_name_key);

GRANT SELECT, UPDATE ON tenants TO insights_tenant;
GRANT SELECT, INSERT, UPDATE, DELETE ON
    admins, sessions, pending_oidc_logins, scim_tokens, users, groups, group_members, cards,
    provisioning_events, import_jobs, import_rows
    TO insights_tenant;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO insights_tenant;

ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tenants TO insights_tenant
    USING (id = insights_tenant_id()) WITH CHECK (id = insights_tenant_id());

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['admins', 'sessions', 'pending_oidc_logins', 'scim_tokens',
        'users', 'groups', 'group_members', 'cards', 'provisioning_events', 'import_jobs',
        'import_rows']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I TO insights_tenant '
            'USING (tenant_id = insights_tenant_id()) WITH CHECK (tenant_id = insights_tenant_id())',
            owned);
    END LOOP;
END
$$;
