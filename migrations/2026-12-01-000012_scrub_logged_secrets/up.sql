-- Before redaction by schema, a password sent in path form (PATCH {"op": "replace",
-- "path": "password", "value": "…"}) or in a filter reached the activity log. This removes
-- every such value already stored: values of secret-looking keys at any depth, the values of
-- PATCH operations whose path names one, filters that mention one, and query strings of paths
-- that do.
CREATE FUNCTION pg_temp.looks_secret(name text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT lower(name) ~ '(password|secret|token|apikey|credential)$'
$$;

CREATE FUNCTION pg_temp.scrub(doc jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    out jsonb;
    k text;
    v jsonb;
BEGIN
    CASE jsonb_typeof(doc)
    WHEN 'object' THEN
        out := '{}'::jsonb;
        FOR k, v IN SELECT * FROM jsonb_each(doc) LOOP
            IF pg_temp.looks_secret(k) THEN
                out := out || jsonb_build_object(k, '[redacted]');
            ELSIF lower(k) = 'filter' AND jsonb_typeof(v) = 'string'
                  AND (v #>> '{}') ~* '(password|secret|token|apikey|credential)' THEN
                out := out || jsonb_build_object(k, '[redacted]');
            ELSIF lower(k) = 'value' AND jsonb_typeof(doc -> 'path') = 'string'
                  AND (doc ->> 'path') ~* '(password|secret|token|apikey|credential)' THEN
                out := out || jsonb_build_object(k, '[redacted]');
            ELSE
                out := out || jsonb_build_object(k, pg_temp.scrub(v));
            END IF;
        END LOOP;
        RETURN out;
    WHEN 'array' THEN
        SELECT COALESCE(jsonb_agg(pg_temp.scrub(e) ORDER BY n), '[]'::jsonb) INTO out
        FROM jsonb_array_elements(doc) WITH ORDINALITY AS a(e, n);
        RETURN out;
    ELSE
        RETURN doc;
    END CASE;
END
$$;

UPDATE provisioning_events SET payload = pg_temp.scrub(payload)
WHERE payload IS NOT NULL
  AND payload::text ~* '(password|secret|token|apikey|credential)';

UPDATE provisioning_events SET path = split_part(path, '?', 1) || '?[redacted]'
WHERE path LIKE '%?%' AND split_part(path, '?', 2) ~* '(password|secret|token|apikey|credential)';
