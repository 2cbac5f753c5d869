-- Nothing in the schema may stop the tables from being distributed by tenant_id (Citus; see
-- docs/SCALING.md):
--
-- * Token changes were announced by triggers calling pg_notify. On a Citus worker a trigger
--   fires node-locally, so listeners on the coordinator would never hear it. The server now
--   announces them itself, in the transaction that makes the change (through the
--   coordinator), and no remembered verification outlives a two-second re-check in any case.
-- * A deleted tenant's events were deleted by a trigger on tenants: a trigger that writes
--   another table. Deleting a tenant now deletes its events in the same statement
--   (`tenants::delete`).
-- * Admin sign-in looked an e-mail up in admins across every tenant (a query on every shard).
--   admin_emails is the e-mail-to-tenant directory sign-in reads first (a reference table on
--   Citus: small, copied to every node); then each tenant's admin is read on its own shard.
DROP TRIGGER scim_tokens_announce_auth_change ON scim_tokens;
DROP TRIGGER tenants_announce_auth_change ON tenants;
DROP FUNCTION announce_scim_auth_change();
DROP TRIGGER tenants_delete_events ON tenants;
DROP FUNCTION delete_tenant_events();

CREATE TABLE admin_emails (
    email_key text NOT NULL,
    tenant_id uuid NOT NULL,
    admin_id uuid NOT NULL,
    PRIMARY KEY (email_key, tenant_id, admin_id)
);
INSERT INTO admin_emails (email_key, tenant_id, admin_id)
    SELECT lower(email), tenant_id, id FROM admins;
ALTER TABLE admin_emails ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON admin_emails TO insights_tenant
    USING (tenant_id = insights_tenant_id()) WITH CHECK (tenant_id = insights_tenant_id());
GRANT SELECT, INSERT, DELETE ON admin_emails TO insights_tenant;
