-- Servers remember verified SCIM tokens for a short while so that a request costs no database
-- round trip for authentication. Every change that can make a remembered token invalid
-- (revocation, retirement, the end of an overlap window, expiry, the tenant's SCIM switch or
-- sign-in type, deletion) is announced on one channel with the tenant id, and every server
-- forgets that tenant's tokens at once. A trigger, so that no code path (console, CLI, a
-- hand-written UPDATE) can forget to announce.
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
