-- Requests to a tenant's SCIM URL that were refused before they reached the directory (no,
-- malformed, unknown, revoked or expired token, SCIM switched off, sign-in not OpenID,
-- throttled), so that a broken connection shows in the console instead of looking like
-- silence. One row per tenant, minute and reason with a count: a flood of wrong tokens adds
-- at most one row per reason and minute (420 an hour per tenant). The token presented and the
-- body are never stored; the last client's address and user agent are, to recognise the
-- identity provider. Only tenants that exist get rows (the writer joins them).
CREATE TABLE rejected_requests (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    minute timestamptz NOT NULL,
    reason text NOT NULL,
    requests integer NOT NULL,
    last_at timestamptz NOT NULL,
    last_address text NOT NULL,
    last_user_agent text,
    PRIMARY KEY (tenant_id, minute, reason)
);
ALTER TABLE rejected_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON rejected_requests TO insights_tenant
    USING (tenant_id = insights_tenant_id()) WITH CHECK (tenant_id = insights_tenant_id());
GRANT SELECT ON rejected_requests TO insights_tenant;
