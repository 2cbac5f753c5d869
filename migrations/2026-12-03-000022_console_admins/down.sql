DROP TABLE audit_log;
DROP TABLE admin_invitations;
ALTER TABLE admins DROP COLUMN role;
