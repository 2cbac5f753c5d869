-- One row per authenticated SCIM request, for the console's activity log. The payload has
-- passwords and other secrets removed before it is written.
CREATE TABLE provisioning_events (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            bigint      GENERATED ALWAYS AS IDENTITY,
    occurred_at   timestamptz NOT NULL DEFAULT now(),
    method        text        NOT NULL,
    path          text        NOT NULL,
    status        smallint    NOT NULL,
    resource_type text,
    resource_id   text,
    token_id      uuid,
    duration_us   bigint      NOT NULL DEFAULT 0,
    error         text,
    payload       jsonb,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX provisioning_events_tenant_time_idx ON provisioning_events (tenant_id, occurred_at DESC);
