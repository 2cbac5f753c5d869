-- Failed console sign-ins per admin and client address. The back-off after repeated failures
-- applies first to the address they came from, so that someone guessing from one address cannot
-- lock an admin out for everyone else; only many failures within an hour, from anywhere, lock
-- the account itself (admins.locked_until).
CREATE TABLE admin_sign_in_failures (
    tenant_id      uuid        NOT NULL,
    admin_id       uuid        NOT NULL,
    client_addr    text        NOT NULL CHECK (length(client_addr) BETWEEN 1 AND 64),
    failures       integer     NOT NULL CHECK (failures > 0),
    locked_until   timestamptz,
    last_failed_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, admin_id, client_addr),
    FOREIGN KEY (tenant_id, admin_id) REFERENCES admins (tenant_id, id) ON DELETE CASCADE
);

GRANT SELECT, INSERT, UPDATE, DELETE ON admin_sign_in_failures TO insights_tenant;
ALTER TABLE admin_sign_in_failures ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON admin_sign_in_failures TO insights_tenant
    USING (tenant_id = insights_tenant_id()) WITH CHECK (tenant_id = insights_tenant_id());
