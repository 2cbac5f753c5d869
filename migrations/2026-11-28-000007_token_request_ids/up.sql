-- The console's Generate/Regenerate form carries a one-time request id, so that a reload or a
-- resubmitted form never mints a second token.
ALTER TABLE scim_tokens ADD COLUMN request_id text;
CREATE UNIQUE INDEX scim_tokens_tenant_request_key ON scim_tokens (tenant_id, request_id) WHERE request_id IS NOT NULL;
