DROP TABLE admin_emails;

CREATE FUNCTION delete_tenant_events() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM provisioning_events WHERE tenant_id = OLD.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER tenants_delete_events
    AFTER DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION delete_tenant_events();

CREATE FUNCTION announce_scim_auth_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('insights_scim_auth', (to_jsonb(COALESCE(NEW, OLD)) ->> TG_ARGV[0]));
    RETURN NULL;
END
$$;
CREATE TRIGGER scim_tokens_announce_auth_change
    AFTER UPDATE OF revoked_at, retire_after, expires_at OR DELETE ON scim_tokens
    FOR EACH ROW EXECUTE FUNCTION announce_scim_auth_change('tenant_id');
CREATE TRIGGER tenants_announce_auth_change
    AFTER UPDATE OF scim_enabled, auth_type OR DELETE ON tenants
    FOR EACH ROW EXECUTE FUNCTION announce_scim_auth_change('id');
