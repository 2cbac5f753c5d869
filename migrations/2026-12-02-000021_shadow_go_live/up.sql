-- Shadow go-live: while a tenant has a shadow, its SCIM requests are answered from the
-- shadow's directory (a copy of the tenant's taken when the shadow started, then changed only
-- by the identity provider), so the answers are the live ones but nothing reaches the
-- directory, sessions or cards. Go live applies what the identity provider changed; Discard
-- drops the shadow. A shadow is a tenant row of its own (`shadow_of` its owner), so that every
-- tenant-keyed table, index and row-level policy serves it unchanged.
ALTER TABLE tenants ADD COLUMN shadow_of uuid REFERENCES tenants (id) ON DELETE CASCADE;
ALTER TABLE tenants ADD COLUMN shadow_tenant_id uuid REFERENCES tenants (id) ON DELETE SET NULL;
ALTER TABLE tenants ADD COLUMN shadow_started_at timestamptz;
ALTER TABLE tenants ADD COLUMN shadow_started_by text;
