DROP INDEX provisioning_events_failures_idx;
DROP INDEX provisioning_events_subject_idx;
DROP INDEX provisioning_events_operation_idx;
ALTER TABLE provisioning_events DROP COLUMN subject_key, DROP COLUMN response, DROP COLUMN subject,
    DROP COLUMN operation;
