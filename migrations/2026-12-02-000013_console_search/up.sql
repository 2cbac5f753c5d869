-- The console's searches: case- and accent-insensitive ("cagla" finds "Çağla", "muller" finds
-- "Müller") over the fields an admin looks people up by, including the title and department
-- Okta sends. `unaccent` is a trusted extension (PostgreSQL 13+): the database owner may
-- create it, and every managed PostgreSQL offers it.
CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;

-- unaccent() is STABLE only because its dictionary could be changed; pinned to the default
-- dictionary by name it is safe to treat as IMMUTABLE, which a stored column needs. The body
-- is bound at creation (SQL-standard body), so a changed search_path cannot redirect it.
CREATE FUNCTION insights_fold(value text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN lower(public.unaccent('public.unaccent'::regdictionary, value));

-- Under row-level security an index on the folded text could not be used ahead of the policy
-- (see 000010) and a substring search scans the tenant's rows anyway: the folded text is
-- stored so the scan compares, rather than folds, 100,000 rows. It is cut at 400 characters
-- (1,600 bytes at most) so that it always fits in the userName index beside a 512-byte
-- userName: a display name of a megabyte is accepted and searchable by its beginning.
ALTER TABLE users ADD COLUMN search_key text NOT NULL GENERATED ALWAYS AS (
    left(insights_fold(
        user_name
        || ' ' || coalesce(display_name, '')
        || ' ' || coalesce(given_name, '')
        || ' ' || coalesce(family_name, '')
        || ' ' || coalesce(email, '')
        || ' ' || coalesce(attributes ->> 'title', '')
        || ' ' || coalesce(attributes -> 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User' ->> 'department', '')
    ), 400)
) STORED;

-- The console's user list, search, status counts and group member pages read only the userName
-- index: the unique index carries the id, the folded text and the status, so they are
-- index-only scans instead of reads of every user's whole document. (`active` and the folded
-- text change rarely; a deactivation leaves search_key as it was.)
DROP INDEX users_tenant_user_name_key;
CREATE UNIQUE INDEX users_tenant_user_name_key ON users (tenant_id, user_name_key) INCLUDE (id, search_key, active);

-- Requests and failures per tenant and hour, for the activity chart: summing 168 rows instead
-- of counting a week of events (two million rows in a busy tenant). Finished hours are rolled
-- up by the maintenance task (tenancy::maintenance); hours after `rolled_until` are counted
-- from the events when the chart is drawn.
CREATE TABLE event_hours (
    tenant_id uuid NOT NULL,
    hour timestamptz NOT NULL,
    requests integer NOT NULL,
    failures integer NOT NULL,
    PRIMARY KEY (tenant_id, hour)
);
ALTER TABLE event_hours ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON event_hours TO insights_tenant
    USING (tenant_id = insights_tenant_id()) WITH CHECK (tenant_id = insights_tenant_id());
GRANT SELECT ON event_hours TO insights_tenant;

-- Up to when event_hours is complete: one row, shared by every tenant.
CREATE TABLE event_rollup (
    single boolean PRIMARY KEY DEFAULT true CHECK (single),
    rolled_until timestamptz NOT NULL
);
GRANT SELECT ON event_rollup TO insights_tenant;

-- The roll-up reads an hour of every tenant's events: by time across tenants. Events arrive in
-- time order, so a BRIN index finds the hour for almost nothing on insert; autosummarize has
-- each filled block range summarised at once rather than at the next vacuum.
CREATE INDEX provisioning_events_time_brin ON provisioning_events USING brin (occurred_at)
    WITH (autosummarize = on);

-- A user's history (the user page: when and by which request a user was deactivated; the
-- activity log filtered to one resource) without scanning the tenant's events.
CREATE INDEX provisioning_events_resource_idx ON provisioning_events (tenant_id, resource_id, occurred_at DESC)
    WHERE resource_id IS NOT NULL;
