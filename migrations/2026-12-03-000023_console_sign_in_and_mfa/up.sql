-- Console sign-in through the tenant's identity provider with roles from groups, password
-- sign-in for owners only, and TOTP for password admins.

-- An admin who signs in through the identity provider is linked to the provisioned user and
-- has no password; their role is recomputed from their groups on every request. Password
-- admins keep a unique address per tenant; a provider admin may share it (the same person's
-- break-glass account is a separate admin).
ALTER TABLE admins ADD COLUMN user_id uuid;
ALTER TABLE admins ALTER COLUMN password_hash DROP NOT NULL;
ALTER TABLE admins ADD CONSTRAINT admins_password_or_provider
    CHECK ((user_id IS NULL) = (password_hash IS NOT NULL));
ALTER TABLE admins ADD CONSTRAINT admins_user_fkey
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE;
DROP INDEX admins_tenant_email_key;
CREATE UNIQUE INDEX admins_tenant_email_key ON admins (tenant_id, lower(email)) WHERE user_id IS NULL;
CREATE UNIQUE INDEX admins_tenant_user_key ON admins (tenant_id, user_id) WHERE user_id IS NOT NULL;

-- TOTP (RFC 6238): the secret sealed like the OpenID client secret. Enrolment stores the
-- secret first and `totp_enabled_at` once a code from it was confirmed. `totp_last_step` is
-- the newest time step accepted, so that a code is never accepted twice.
ALTER TABLE admins ADD COLUMN totp_secret text;
ALTER TABLE admins ADD COLUMN totp_enabled_at timestamptz;
ALTER TABLE admins ADD COLUMN totp_last_step bigint;

-- Ten single-use recovery codes per enrolment, only their SHA-256 kept.
CREATE TABLE admin_recovery_codes (
    tenant_id  uuid        NOT NULL,
    admin_id   uuid        NOT NULL,
    code_hash  bytea       NOT NULL,
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (tenant_id, admin_id, code_hash),
    FOREIGN KEY (tenant_id, admin_id) REFERENCES admins (tenant_id, id) ON DELETE CASCADE
);

-- Which groups (pushed over SCIM) grant which console role.
CREATE TABLE console_group_roles (
    tenant_id  uuid        NOT NULL,
    group_id   uuid        NOT NULL,
    role       text        NOT NULL CHECK (role IN ('owner', 'admin', 'viewer')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, group_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE
);

-- The tenant's console sign-in policy.
ALTER TABLE tenants ADD COLUMN console_provider_sign_in boolean NOT NULL DEFAULT false;
ALTER TABLE tenants ADD COLUMN password_sign_in text NOT NULL DEFAULT 'everyone'
    CHECK (password_sign_in IN ('everyone', 'owners'));
ALTER TABLE tenants ADD COLUMN mfa_required boolean NOT NULL DEFAULT false;

-- A console sign-in in flight is not an end user's, and the reverse.
ALTER TABLE pending_oidc_logins ADD COLUMN for_console boolean NOT NULL DEFAULT false;

-- A session opened by a right password that still waits for the second factor: it opens
-- nothing but the code's page, and lives minutes.
ALTER TABLE sessions ADD COLUMN awaiting_mfa boolean NOT NULL DEFAULT false;

DO $$
DECLARE
    owned text;
BEGIN
    FOREACH owned IN ARRAY ARRAY['admin_recovery_codes', 'console_group_roles']
    LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', owned);
        EXECUTE format(
            'CREATE POLICY tenant_isolation ON %I TO insights_tenant '
            'USING (tenant_id = insights_tenant_id()) WITH CHECK (tenant_id = insights_tenant_id())',
            owned);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO insights_tenant', owned);
    END LOOP;
END
$$;
