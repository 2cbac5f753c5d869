-- What each recorded request did, the name it gave its resource, and the error body the
-- identity provider received, so that the Activity log can be filtered by operation, searched
-- by name and explain a failure in the identity provider's own terms.
--
-- `operation`: create, update, deactivate, reactivate, delete, membership (a group's members
-- changed), lookup (a read, list or search) or discovery (ServiceProviderConfig, Schemas,
-- ResourceTypes). `subject`: the userName or group displayName the request carried (its body,
-- or the value of an `eq` filter), kept as sent so that a failed create or a deleted user can
-- still be found. `response`: the SCIM error body of a failed request (successful answers are
-- the resource itself, shown from the directory).
-- `subject_key` is the subject folded for the search, stored: under row-level security only
-- leakproof comparisons of a column may use an index ahead of the policy, so the search
-- compares this column with pattern operators instead of applying lower() to `subject`.
ALTER TABLE provisioning_events
    ADD COLUMN operation text,
    ADD COLUMN subject text,
    ADD COLUMN response jsonb,
    ADD COLUMN subject_key text GENERATED ALWAYS AS (lower(subject)) STORED;

-- Events recorded before this migration get the same classification the server now makes,
-- as far as their method, path and redacted payload tell it.
UPDATE provisioning_events SET
    operation = CASE
        WHEN resource_type NOT IN ('User', 'Group') OR resource_type IS NULL THEN 'discovery'
        WHEN method = 'GET' OR path LIKE '%/.search%' THEN 'lookup'
        WHEN method = 'POST' THEN 'create'
        WHEN method = 'DELETE' THEN 'delete'
        WHEN resource_type = 'Group' AND method = 'PATCH' AND payload::text ILIKE '%members%' THEN 'membership'
        WHEN resource_type = 'User' AND lower(payload::text) ~ '"active": *"?false' THEN 'deactivate'
        WHEN resource_type = 'User' AND lower(payload::text) ~ '"active": *"?true' AND method = 'PATCH' THEN 'reactivate'
        ELSE 'update'
    END,
    subject = left(coalesce(payload ->> 'userName', payload ->> 'displayName'), 200);

ALTER TABLE provisioning_events ALTER COLUMN operation SET NOT NULL;

-- The Operation filter reads the newest events of one operation; the search reads events by
-- the name they carried (prefix, case-insensitive) beside the resource index.
CREATE INDEX provisioning_events_operation_idx
    ON provisioning_events (tenant_id, operation, occurred_at DESC);
CREATE INDEX provisioning_events_subject_idx
    ON provisioning_events (tenant_id, subject_key text_pattern_ops)
    WHERE subject_key IS NOT NULL;
-- Failures are a few per cent of the requests: the Errors filter (alone or with an operation),
-- the last error and the configuration hints read them through this index without walking the
-- successes.
CREATE INDEX provisioning_events_failures_idx
    ON provisioning_events (tenant_id, operation, occurred_at DESC) WHERE status >= 400;
