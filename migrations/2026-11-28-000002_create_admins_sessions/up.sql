-- Console administrators. Emails are unique within a tenant; sign-in looks an email up across
-- tenants through the non-unique index, since the sign-in form does not ask for a tenant.
CREATE TABLE admins (
    tenant_id            uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id                   uuid        NOT NULL,
    email                text        NOT NULL CHECK (position('@' IN email) > 1),
    password_hash        text        NOT NULL,
    must_change_password boolean     NOT NULL DEFAULT true,
    failed_logins        integer     NOT NULL DEFAULT 0,
    locked_until         timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX admins_tenant_email_key ON admins (tenant_id, lower(email));
CREATE INDEX admins_email_idx ON admins (lower(email));

-- Provisioned end users (SCIM, import or console). Only the attributes that are searched,
-- matched or constrained get columns; `attributes` holds the complete SCIM resource as the
-- identity provider sent it (less id, meta, groups and password), so nothing is ever lost.
CREATE TABLE users (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid        NOT NULL,
    user_name      text        NOT NULL CHECK (length(user_name) > 0),
    external_id    text,
    active         boolean     NOT NULL DEFAULT true,
    display_name   text,
    given_name     text,
    family_name    text,
    email          text,
    source         text        NOT NULL DEFAULT 'scim' CHECK (source IN ('scim', 'import', 'console')),
    attributes     jsonb       NOT NULL DEFAULT '{}'::jsonb,
    oidc_subject   text,
    version        bigint      NOT NULL DEFAULT 1,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    deactivated_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- userName is unique per tenant regardless of case; the stored value keeps its case.
CREATE UNIQUE INDEX users_tenant_user_name_key ON users (tenant_id, lower(user_name));
CREATE INDEX users_tenant_external_id_idx ON users (tenant_id, external_id) WHERE external_id IS NOT NULL;
CREATE INDEX users_tenant_email_idx ON users (tenant_id, lower(email));
CREATE UNIQUE INDEX users_tenant_oidc_subject_key ON users (tenant_id, oidc_subject)
    WHERE oidc_subject IS NOT NULL;

-- Server-side sessions, for admins and for signed-in end users, so that any replica can serve
-- any request. Only the SHA-256 of the cookie secret is stored.
CREATE TABLE sessions (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash   bytea       NOT NULL,
    admin_id     uuid,
    user_id      uuid,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, token_hash),
    CONSTRAINT sessions_one_principal CHECK ((admin_id IS NULL) <> (user_id IS NULL)),
    FOREIGN KEY (tenant_id, admin_id) REFERENCES admins (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_user_idx ON sessions (tenant_id, user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_admin_idx ON sessions (tenant_id, admin_id) WHERE admin_id IS NOT NULL;

-- OpenID Connect logins in flight: the IdP's redirect back is cross-site, so state, nonce and
-- the PKCE verifier are kept here rather than in a SameSite=Strict cookie.
CREATE TABLE pending_oidc_logins (
    tenant_id     uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    state         text        NOT NULL,
    nonce         text        NOT NULL,
    pkce_verifier text        NOT NULL,
    return_to     text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, state)
);
