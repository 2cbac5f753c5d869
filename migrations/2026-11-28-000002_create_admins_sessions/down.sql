DROP TABLE pending_oidc_logins;
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE admins;
