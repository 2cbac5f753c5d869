-- SCIM bearer tokens. Only the SHA-256 of a token is stored; `last4` lets the console show
-- which token is which. A token that replaced another records it in `replaces_id`; the older
-- token is retired when the newer one is first used or when `retire_after` passes.
CREATE TABLE scim_tokens (
    tenant_id      uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id             uuid        NOT NULL,
    token_hash     bytea       NOT NULL CHECK (length(token_hash) = 32),
    last4          text        NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    replaces_id    uuid,
    retire_after   timestamptz,
    revoked_at     timestamptz,
    revoked_reason text        CHECK (revoked_reason IN ('revoked', 'replaced')),
    first_used_at  timestamptz,
    last_used_at   timestamptz,
    PRIMARY KEY (tenant_id, id),
    CONSTRAINT scim_tokens_revocation_has_reason CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
);
CREATE UNIQUE INDEX scim_tokens_tenant_hash_key ON scim_tokens (tenant_id, token_hash);
CREATE INDEX scim_tokens_tenant_created_idx ON scim_tokens (tenant_id, created_at DESC);
