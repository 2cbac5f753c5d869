DROP TABLE provisioning_events;
