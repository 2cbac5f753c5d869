-- The console's "Test the connection": it calls the tenant's own SCIM endpoint the way Okta does
-- with a token minted for the test alone. `purpose` keeps that token out of everything that is
-- about the identity provider's tokens: it is not listed, not current, retires nothing on first
-- use and is retired by nothing; its requests are told apart in the activity log by it.
ALTER TABLE scim_tokens ADD COLUMN purpose text NOT NULL DEFAULT 'identity_provider'
    CHECK (purpose IN ('identity_provider', 'self_test'));

-- One row per tenant: the test running or the last one run. A test claims the row (a unique
-- key, not a check-then-insert), so two cannot run at once for a tenant across replicas; a
-- claim older than two minutes was abandoned (its server died) and may be taken over.
CREATE TABLE connection_tests (
    tenant_id uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    passed boolean,
    steps jsonb NOT NULL DEFAULT '[]'
);
ALTER TABLE connection_tests ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON connection_tests TO insights_tenant
    USING (tenant_id = insights_tenant_id()) WITH CHECK (tenant_id = insights_tenant_id());
GRANT SELECT, INSERT, UPDATE ON connection_tests TO insights_tenant;
