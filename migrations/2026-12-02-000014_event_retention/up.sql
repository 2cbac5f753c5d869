-- How long a tenant's provisioning events are kept, in days (7 to 365); NULL follows the
-- operator's default (INSIGHTS_EVENT_RETENTION_DAYS, 30 unless set). The maintenance task
-- deletes older events, and the report rows of imports that finished before then, in bounded
-- batches.
ALTER TABLE tenants ADD COLUMN event_retention_days smallint
    CHECK (event_retention_days BETWEEN 7 AND 365);
