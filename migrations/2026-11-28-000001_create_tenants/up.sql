-- Tenants are the root of every tenant-owned row. The id is stable and appears in the
-- Tenant URL (/scim/v2/{tenant}), so it is never reused or renumbered.
CREATE TABLE tenants (
    id                 uuid        PRIMARY KEY,
    name               text        NOT NULL CHECK (length(btrim(name)) > 0),
    scim_enabled       boolean     NOT NULL DEFAULT false,
    auth_type          text        NOT NULL DEFAULT 'password'
                                   CHECK (auth_type IN ('password', 'openid')),
    oidc_issuer        text,
    oidc_client_id     text,
    oidc_client_secret text,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    -- OpenID sign-in cannot work without its three settings.
    CONSTRAINT tenants_openid_complete CHECK (
        auth_type <> 'openid'
        OR (oidc_issuer IS NOT NULL AND oidc_client_id IS NOT NULL AND oidc_client_secret IS NOT NULL)
    )
);
