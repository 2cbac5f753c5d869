DROP TABLE notification_deliveries;
DROP TABLE notifications;
DROP TABLE notification_endpoints;
ALTER TABLE tenants DROP COLUMN deprovisioning_alert_users;
