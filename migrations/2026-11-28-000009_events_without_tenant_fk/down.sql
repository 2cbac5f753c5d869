DROP TRIGGER tenants_delete_events ON tenants;
DROP FUNCTION delete_tenant_events();
DELETE FROM provisioning_events e WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = e.tenant_id);
ALTER TABLE provisioning_events
    ADD CONSTRAINT provisioning_events_tenant_id_fkey
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE;
