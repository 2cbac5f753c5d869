-- Notifications before provisioning breaks (token expiry, rejected tokens, silence, a
-- deprovisioning spike, a test on demand), by e-mail to every console admin and to each
-- webhook endpoint of the tenant.

-- The tenant's own deprovisioning-spike threshold: more deactivations and deletions within an
-- hour than this many users is a spike (NULL: 10 % of the active users or 50, whichever is
-- larger).
ALTER TABLE tenants ADD COLUMN deprovisioning_alert_users integer
    CHECK (deprovisioning_alert_users BETWEEN 1 AND 1000000);

-- A tenant's webhook endpoints. The signing secret is needed to sign, so it is sealed with
-- INSIGHTS_SECRET_KEY (like the OpenID client secrets), never stored in clear; only its last
-- four characters are shown again.
CREATE TABLE notification_endpoints (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    url text NOT NULL CHECK (length(url) <= 2000),
    secret_sealed text NOT NULL,
    secret_last4 text NOT NULL,
    enabled boolean NOT NULL DEFAULT true,
    disabled_reason text,
    -- Since when every delivery to it has failed (NULL after a success): three days of that
    -- disable it.
    failing_since timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id)
);

-- What was decided to be sent: one row per tenant, kind and occasion. The unique key is what
-- makes a notification go out exactly once however many servers notice the occasion at once
-- and across restarts (an INSERT ... ON CONFLICT DO NOTHING, not a check-then-insert).
CREATE TABLE notifications (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('token.expiring', 'token.expired', 'connection.rejected',
        'connection.silent', 'deprovisioning.spike', 'test', 'endpoint.disabled')),
    occasion text NOT NULL,
    data jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, kind, occasion)
);

-- One delivery of a notification on one channel: to one admin's address, or to one endpoint.
-- Retried with back-off until delivered or given up; the console shows the last attempt.
CREATE TABLE notification_deliveries (
    tenant_id uuid NOT NULL,
    id uuid NOT NULL,
    notification_id uuid NOT NULL,
    channel text NOT NULL CHECK (channel IN ('email', 'webhook')),
    endpoint_id uuid,
    recipient text,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_attempt_at timestamptz,
    last_status integer,
    last_error text,
    delivered_at timestamptz,
    gave_up_at timestamptz,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, notification_id) REFERENCES notifications (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, endpoint_id) REFERENCES notification_endpoints (tenant_id, id) ON DELETE CASCADE,
    CHECK ((channel = 'email') = (recipient IS NOT NULL)),
    CHECK ((channel = 'webhook') = (endpoint_id IS NOT NULL))
);
-- The worker's queue: what is due, across tenants.
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at)
    WHERE delivered_at IS NULL AND gave_up_at IS NULL;
-- An endpoint's delivery log.
CREATE INDEX notification_deliveries_endpoint_idx
    ON notification_deliveries (tenant_id, endpoint_id, created_at DESC) WHERE endpoint_id IS NOT NULL;

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['notification_endpoints', 'notifications',
        'notification_deliveries']
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
