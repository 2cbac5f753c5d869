DROP INDEX provisioning_events_time_brin;
DROP TABLE event_rollup;
DROP TABLE event_hours;
DROP INDEX provisioning_events_resource_idx;
DROP INDEX users_tenant_user_name_key;
ALTER TABLE users DROP COLUMN search_key;
CREATE UNIQUE INDEX users_tenant_user_name_key ON users (tenant_id, user_name_key);
DROP FUNCTION insights_fold(text);
-- The extension stays: it may have been there before, and other objects may use it.
