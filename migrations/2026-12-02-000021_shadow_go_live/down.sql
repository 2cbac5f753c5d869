DELETE FROM tenants WHERE shadow_of IS NOT NULL;
ALTER TABLE tenants DROP COLUMN shadow_started_by;
ALTER TABLE tenants DROP COLUMN shadow_started_at;
ALTER TABLE tenants DROP COLUMN shadow_tenant_id;
ALTER TABLE tenants DROP COLUMN shadow_of;
