-- Safe provisioning: pause, reviewed adoption of users SCIM does not manage, reversible
-- deletion and the deprovisioning circuit breaker.

-- Pause: while set, SCIM requests are answered 503 with Retry-After (the identity provider
-- retries later and loses nothing). `provisioning_paused_by` is the admin's e-mail address.
ALTER TABLE tenants ADD COLUMN provisioning_paused_at timestamptz;
ALTER TABLE tenants ADD COLUMN provisioning_paused_by text;
-- The first match of a SCIM user to a user SCIM does not manage (by userName or e-mail):
-- 'ask' holds it for an admin's review, 'link' links it, 'refuse' answers 409.
ALTER TABLE tenants ADD COLUMN adoption text NOT NULL DEFAULT 'ask'
    CHECK (adoption IN ('ask', 'link', 'refuse'));
-- Days a deleted user is kept for restoring (NULL: 30).
ALTER TABLE tenants ADD COLUMN deleted_user_retention_days smallint
    CHECK (deleted_user_retention_days BETWEEN 1 AND 365);

-- When and by whom (an admin's e-mail address, or 'automatic') a user that SCIM did not
-- create was linked to the identity provider.
ALTER TABLE users ADD COLUMN linked_at timestamptz;
ALTER TABLE users ADD COLUMN linked_by text;
-- The users SCIM does not manage, by userName and by e-mail: the adoption check probes these
-- before every SCIM create, and a tenant provisioned by SCIM has few or none of them.
CREATE INDEX users_unmanaged_user_name_idx ON users (tenant_id, user_name_key) WHERE source <> 'scim';
CREATE INDEX users_unmanaged_email_idx ON users (tenant_id, email_key) WHERE source <> 'scim';

-- A SCIM create that matched a user SCIM does not manage while the tenant asks to review:
-- the existing user and what the identity provider sent, until an admin links them or keeps
-- them separate.
CREATE TABLE adoption_conflicts (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    matched_on text NOT NULL CHECK (matched_on IN ('userName', 'email')),
    -- The identity provider's document, redacted like the activity log's payloads.
    payload jsonb NOT NULL,
    user_name text NOT NULL,
    first_seen_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    attempts integer NOT NULL DEFAULT 1,
    -- NULL while waiting; 'separate' once an admin kept them apart.
    decision text CHECK (decision IN ('separate')),
    decided_at timestamptz,
    decided_by text,
    PRIMARY KEY (tenant_id, user_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);

-- A deleted user, kept for restoring until `purge_after`: the row as it was, its cards and
-- its groups. The user is gone from `users` (so from SCIM, sign-in and card checks, and its
-- userName is free); restoring puts the same id back.
CREATE TABLE deleted_users (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id uuid NOT NULL,
    user_name text NOT NULL,
    shown_name text NOT NULL,
    deleted_at timestamptz NOT NULL,
    -- 'scim', or the admin's e-mail address.
    deleted_by text NOT NULL,
    purge_after timestamptz NOT NULL,
    user_row jsonb NOT NULL,
    cards jsonb NOT NULL,
    group_ids jsonb NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX deleted_users_tenant_deleted_idx ON deleted_users (tenant_id, deleted_at DESC);
CREATE INDEX deleted_users_purge_idx ON deleted_users (purge_after);

-- A trip of the circuit breaker: a run of deactivations and deletions past the tenant's
-- threshold, from `started_at` (the run's first) until acknowledged. Its users are the
-- activity log's deprovisionings in that span; Undo puts them back.
CREATE TABLE breaker_trips (
    tenant_id uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id uuid NOT NULL,
    started_at timestamptz NOT NULL,
    tripped_at timestamptz NOT NULL,
    active_before integer NOT NULL,
    threshold integer NOT NULL,
    undone_at timestamptz,
    undone_by text,
    undone_users integer,
    acknowledged_at timestamptz,
    acknowledged_by text,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, started_at)
);

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['adoption_conflicts', 'deleted_users', 'breaker_trips']
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
