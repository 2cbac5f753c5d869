DROP INDEX scim_tokens_tenant_request_key;
ALTER TABLE scim_tokens DROP COLUMN request_id;
