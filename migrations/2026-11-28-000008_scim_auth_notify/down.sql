DROP TRIGGER tenants_announce_auth_change ON tenants;
DROP TRIGGER scim_tokens_announce_auth_change ON scim_tokens;
DROP FUNCTION announce_scim_auth_change();
