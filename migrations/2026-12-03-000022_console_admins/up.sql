-- Console admins: several per tenant with roles, invitations, and the audit log of every
-- admin action.

-- 'owner' manages admins and everything else, 'admin' everything but admins, 'viewer' reads.
-- Every tenant had exactly one admin, who becomes its owner.
ALTER TABLE admins ADD COLUMN role text NOT NULL DEFAULT 'owner'
    CHECK (role IN ('owner', 'admin', 'viewer'));

-- An invitation to become an admin: the link carries `<tenant id>.<secret>`, only the
-- SHA-256 of the secret is kept. Single use (`accepted_at`), valid until `expires_at`.
CREATE TABLE admin_invitations (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid        NOT NULL,
    email       text        NOT NULL CHECK (position('@' IN email) > 1),
    role        text        NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    token_hash  bytea       NOT NULL,
    invited_by  text        NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz,
    revoked_at  timestamptz,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX admin_invitations_token_key ON admin_invitations (tenant_id, token_hash);
CREATE INDEX admin_invitations_tenant_created_idx ON admin_invitations (tenant_id, created_at DESC);

-- Who did what in the console (or the operator's command line): written in the same
-- transaction as the action it describes. `actor` is the admin's e-mail address (or
-- 'operator'); `detail` holds what changed, secrets replaced by "changed".
CREATE TABLE audit_log (
    tenant_id   uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id          uuid        NOT NULL,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    admin_id    uuid,
    action      text        NOT NULL,
    target      text,
    detail      jsonb       NOT NULL DEFAULT '{}'::jsonb,
    client_addr text,
    user_agent  text,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX audit_log_tenant_at_idx ON audit_log (tenant_id, at DESC, id);
CREATE INDEX audit_log_at_idx ON audit_log (at);
-- The audit page's filters: by action, and by the start of the actor's address.
CREATE INDEX audit_log_tenant_action_idx ON audit_log (tenant_id, action, at DESC);
CREATE INDEX audit_log_tenant_actor_idx ON audit_log (tenant_id, lower(actor) text_pattern_ops, at DESC);

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['admin_invitations', 'audit_log']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I TO insights_tenant '
            'USING (tenant_id = insights_tenant_id()) WITH CHECK (tenant_id = insights_tenant_id())',
            owned);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO insights_tenant', owned);
    END LOOP;
END
$$;
