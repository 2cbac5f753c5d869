DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['tenants', 'admins', 'sessions', 'pending_oidc_logins',
        'scim_tokens', 'users', 'groups', 'group_members', 'cards', 'provisioning_events',
        'import_jobs', 'import_rows']
    LOOP
        EXECUTE format('DROP POLICY tenant_isolation ON %I', owned);
        EXECUTE format('ALTER TABLE %I DISABLE ROW LEVEL SECURITY', owned);
        EXECUTE format('REVOKE ALL ON %I FROM insights_tenant', owned);
    END LOOP;
END
$$;
REVOKE USAGE ON ALL SEQUENCES IN SCHEMA public FROM insights_tenant;

DROP INDEX groups_tenant_display_name_key;
CREATE UNIQUE INDEX groups_tenant_display_name_key ON groups (tenant_id, lower(display_name));
DROP INDEX users_tenant_email_idx;
CREATE INDEX users_tenant_email_idx ON users (tenant_id, lower(email));
DROP INDEX users_tenant_user_name_key;
CREATE UNIQUE INDEX users_tenant_user_name_key ON users (tenant_id, lower(user_name));
ALTER TABLE groups DROP COLUMN display_name_key;
ALTER TABLE users DROP COLUMN email_key;
ALTER TABLE users DROP COLUMN user_name_key;

DROP FUNCTION insights_tenant_id();
-- The role is shared by every database of the cluster; it is left in place.
