-- Seeds one tenant with the directory the console is measured against (issue 11): 100,000
-- users with the attributes Okta sends (names with accents, title, department, manager, phone,
-- address), 5 % of them deactivated, 300 small groups and one of 50,000 members, 20,000 cards,
-- 2,000,000 provisioning events over the last 30 days and 20 finished imports.
--
-- The tenant must exist (`insights tenant create`) and have no seeded rows yet:
--   PGOPTIONS="-c insights_seed.tenant=<tenant id>" psql "$DATABASE_URL" -f scripts/seed-console.sql
-- `bench --console` runs it the same way. Run as the role that owns the tables (row-level
-- security does not apply to it). Takes about a minute.

\set ON_ERROR_STOP on
BEGIN;

CREATE TEMP TABLE seed AS SELECT current_setting('insights_seed.tenant')::uuid AS tenant;

CREATE TEMP TABLE seed_people ON COMMIT DROP AS
SELECT g,
       md5('seed-user-' || g)::uuid AS id,
       'p' || lpad(g::text, 6, '0') || '@corp.example' AS user_name,
       (ARRAY['Çağla','Zoë','José','Łukasz','Søren','Ana','Björn','Amélie','Chloé','Dmitri','Émile',
              'Fatma','Gül','Hélène','Iñaki','Jürgen','Kaito','Léa','Mateo','Noémie','Ömer','Pia',
              'Raúl','Siân','Tomás','Ugnė','Věra','Wojciech','Xavier','Yağmur','Zoltán','Aiden',
              'Bella','Carlos','Diana','Ethan','Fiona','George','Hannah','Ivan','Julia'])[1 + g % 41] AS given,
       (ARRAY['Müller','Öztürk','García','Nowak','Jørgensen','Dubois','Şahin','Kovačević','O''Brien',
              'Lindqvist','Smith','Johnson','Brown','Taylor','Anderson','Thomas','Jackson','White',
              'Harris','Martin','Thompson','Moore','Lee','Walker','Young','Allen','King','Wright',
              'Scott','Green','Baker','Adams','Nelson','Hill','Campbell','Mitchell','Roberts',
              'Carter','Phillips','Evans','Turner','Yılmaz','Kowalski'])[1 + (g / 41) % 43] AS family,
       (ARRAY['Software Engineer','Senior Software Engineer','Product Manager','Product Designer',
              'Data Analyst','Sales Executive','Account Manager','Support Specialist','Recruiter',
              'Financial Analyst','Legal Counsel','Office Manager','Engineering Manager',
              'Director of Sales','Chief Technology Officer'])[1 + g % 15] AS title,
       (ARRAY['Engineering','Product','Design','Sales','Customer Support','People','Finance',
              'Legal','Operations','Marketing'])[1 + g % 10] AS department,
       g % 20 <> 0 AS active,
       now() - make_interval(days => 400 - g % 365, secs => g % 86400) AS created_at
FROM generate_series(1, 100000) AS g;

INSERT INTO users (tenant_id, id, user_name, external_id, active, display_name, given_name,
                   family_name, email, source, attributes, version, created_at, updated_at,
                   deactivated_at)
SELECT seed.tenant, p.id, p.user_name, '00u' || md5('ext-' || p.g)::text, p.active,
       p.given || ' ' || p.family, p.given, p.family, p.user_name, 'scim',
       jsonb_build_object(
           'schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User',
                                        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'),
           'userName', p.user_name,
           'externalId', '00u' || md5('ext-' || p.g)::text,
           'name', jsonb_build_object('givenName', p.given, 'familyName', p.family,
                                      'formatted', p.given || ' ' || p.family),
           'displayName', p.given || ' ' || p.family,
           'emails', jsonb_build_array(jsonb_build_object('value', p.user_name, 'primary', true, 'type', 'work')),
           'phoneNumbers', jsonb_build_array(jsonb_build_object(
               'value', '+1 555 ' || lpad((p.g % 10000)::text, 4, '0'), 'type', 'work')),
           'addresses', jsonb_build_array(jsonb_build_object(
               'type', 'work', 'primary', true, 'streetAddress', (p.g % 900 + 1) || ' Market Street',
               'locality', 'San Francisco', 'region', 'CA', 'postalCode', '94105', 'country', 'US')),
           'title', p.title,
           'locale', 'en-US',
           'active', p.active,
           'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', jsonb_build_object(
               'employeeNumber', p.g::text,
               'department', p.department,
               'organization', 'Corp',
               'costCenter', 'CC-' || (p.g % 40),
               'manager', jsonb_build_object('value', md5('seed-user-' || (p.g / 10 + 1))::uuid::text))),
       1 + p.g % 5, p.created_at, p.created_at + interval '1 day',
       CASE WHEN p.active THEN NULL ELSE now() - make_interval(days => p.g % 90) END
FROM seed_people p, seed;

INSERT INTO groups (tenant_id, id, display_name, external_id, attributes, version, created_at, updated_at)
SELECT seed.tenant, md5('seed-group-' || g)::uuid,
       CASE WHEN g = 0 THEN 'Everyone in Engineering' ELSE 'Team ' || g END,
       '00g' || md5('ext-group-' || g)::text,
       jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:Group')),
       1, now() - interval '300 days', now() - interval '1 day'
FROM generate_series(0, 300) AS g, seed;

-- The large group: users 1-50,000; every other group: 20 users.
INSERT INTO group_members (tenant_id, group_id, user_id, created_at)
SELECT seed.tenant, md5('seed-group-0')::uuid, md5('seed-user-' || g)::uuid, now() - interval '200 days'
FROM generate_series(1, 50000) AS g, seed;
INSERT INTO group_members (tenant_id, group_id, user_id, created_at)
SELECT seed.tenant, md5('seed-group-' || t)::uuid, md5('seed-user-' || (50000 + t * 20 + m))::uuid,
       now() - interval '100 days'
FROM generate_series(1, 300) AS t, generate_series(1, 20) AS m, seed
WHERE 50000 + t * 20 + m <= 100000;

INSERT INTO cards (tenant_id, id, user_id, card_number, source, created_at)
SELECT seed.tenant, md5('seed-card-' || g)::uuid, md5('seed-user-' || g)::uuid,
       'C' || lpad(g::text, 8, '0'), 'import', now() - interval '50 days'
FROM generate_series(1, 20000) AS g, seed;

-- 2,000,000 requests over 30 days, shaped like Okta's: lookups, creates, updates,
-- deactivations and group pushes, 3 % of them failed.
INSERT INTO provisioning_events (tenant_id, occurred_at, method, path, status, resource_type,
                                 resource_id, duration_us, error, payload, operation, subject, response)
SELECT seed.tenant,
       now() - make_interval(secs => g * 1.296),
       (ARRAY['GET','GET','GET','POST','PATCH','PATCH','PUT','PATCH','GET','DELETE'])[1 + g % 10],
       CASE g % 10
           WHEN 0 THEN '/Users?filter=userName%20eq%20%22p' || lpad((g % 100000)::text, 6, '0') || '%40corp.example%22'
           WHEN 1 THEN '/Users?startIndex=1&count=100'
           WHEN 2 THEN '/Groups?filter=displayName%20eq%20%22Team%20' || (g % 300 + 1) || '%22'
           WHEN 3 THEN '/Users'
           WHEN 6 THEN '/Groups/' || md5('seed-group-' || (g % 301))::uuid
           WHEN 7 THEN '/Groups/' || md5('seed-group-' || (g % 301))::uuid
           ELSE '/Users/' || md5('seed-user-' || (1 + g % 100000))::uuid
       END,
       CASE WHEN g % 33 = 0 THEN (ARRAY[409, 404, 400])[1 + g % 3]
            WHEN g % 10 = 3 THEN 201 WHEN g % 10 = 9 THEN 204 ELSE 200 END,
       CASE WHEN g % 10 IN (2, 6, 7) THEN 'Group' ELSE 'User' END,
       CASE WHEN g % 10 IN (0, 1, 2) THEN NULL
            WHEN g % 10 IN (6, 7) THEN md5('seed-group-' || (g % 301))::uuid::text
            ELSE md5('seed-user-' || (1 + g % 100000))::uuid::text END,
       300 + g % 4700,
       CASE WHEN g % 33 = 0 THEN (ARRAY['A user with this userName already exists.',
                                        'No such user.', 'The filter could not be parsed.'])[1 + g % 3] END,
       CASE WHEN g % 10 IN (4, 5, 7) THEN jsonb_build_object(
                'schemas', jsonb_build_array('urn:ietf:params:scim:api:messages:2.0:PatchOp'),
                'Operations', jsonb_build_array(jsonb_build_object('op', 'replace', 'value',
                    jsonb_build_object('active', g % 2 = 0)))) END,
       CASE WHEN g % 10 IN (0, 1, 2, 8) THEN 'lookup' WHEN g % 10 = 3 THEN 'create'
            WHEN g % 10 = 9 THEN 'delete' WHEN g % 10 = 6 THEN 'update' WHEN g % 10 = 7 THEN 'membership'
            WHEN g % 2 = 0 THEN 'reactivate' ELSE 'deactivate' END,
       CASE WHEN g % 10 IN (0, 3) THEN 'p' || lpad((g % 100000)::text, 6, '0') || '@corp.example'
            WHEN g % 10 = 2 THEN 'Team ' || (g % 300 + 1) END,
       CASE WHEN g % 33 = 0 THEN jsonb_build_object(
                'schemas', jsonb_build_array('urn:ietf:params:scim:api:messages:2.0:Error'),
                'status', ((ARRAY[409, 404, 400])[1 + g % 3])::text,
                'scimType', (ARRAY['uniqueness', NULL, 'invalidFilter'])[1 + g % 3],
                'detail', (ARRAY['A user with this userName already exists.',
                                 'No such user.', 'The filter could not be parsed.'])[1 + g % 3]) END
FROM generate_series(1, 2000000) AS g, seed;

INSERT INTO import_jobs (tenant_id, id, kind, status, file_name, total_rows, processed_rows,
                         created_count, updated_count, error_count, created_at, finished_at)
SELECT seed.tenant, md5('seed-import-' || j)::uuid, 'cards', 'done', 'badges-' || j || '.csv',
       1000, 1000, 990, 0, 10, now() - make_interval(days => j), now() - make_interval(days => j) + interval '3 seconds'
FROM generate_series(1, 20) AS j, seed;
INSERT INTO import_rows (tenant_id, job_id, line, fields, outcome, message)
SELECT seed.tenant, md5('seed-import-' || j)::uuid, r + 1,
       jsonb_build_object('userName', 'p' || lpad(r::text, 6, '0') || '@corp.example', 'cardNumber', 'D' || j || '-' || r),
       CASE WHEN r % 100 = 0 THEN 'error' ELSE 'created' END,
       CASE WHEN r % 100 = 0 THEN 'No user with this userName.' END
FROM generate_series(1, 20) AS j, generate_series(1, 1000) AS r, seed;

-- The events are back-dated, into hours the maintenance may have rolled up already: have it
-- roll every hour up again (each roll-up replaces its hours' counts).
DELETE FROM event_rollup;

COMMIT;
-- What autovacuum does soon after a bulk load: statistics, the visibility map (which index-only
-- scans need) and the summary of the events' BRIN index.
VACUUM (ANALYZE) users, groups, group_members, cards, provisioning_events, import_jobs, import_rows;
