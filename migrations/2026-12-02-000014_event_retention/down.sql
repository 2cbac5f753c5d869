ALTER TABLE tenants DROP COLUMN event_retention_days;
