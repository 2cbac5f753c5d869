-- Groups pushed by the identity provider, and their members.
CREATE TABLE groups (
    tenant_id    uuid        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id           uuid        NOT NULL,
    display_name text        NOT NULL CHECK (length(display_name) > 0),
    external_id  text,
    attributes   jsonb       NOT NULL DEFAULT '{}'::jsonb,
    version      bigint      NOT NULL DEFAULT 1,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX groups_tenant_display_name_key ON groups (tenant_id, lower(display_name));
CREATE INDEX groups_tenant_external_id_idx ON groups (tenant_id, external_id) WHERE external_id IS NOT NULL;

-- Membership is indexed both ways: a group's members (primary key) and a user's groups.
CREATE TABLE group_members (
    tenant_id  uuid        NOT NULL,
    group_id   uuid        NOT NULL,
    user_id    uuid        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, group_id, user_id),
    FOREIGN KEY (tenant_id, group_id) REFERENCES groups (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX group_members_user_idx ON group_members (tenant_id, user_id, group_id);

-- Badge cards. A card works only while its user is active; that is derived from the user,
-- so deactivating and reactivating a user needs no change here.
CREATE TABLE cards (
    tenant_id   uuid        NOT NULL,
    id          uuid        NOT NULL,
    user_id     uuid        NOT NULL,
    card_number text        NOT NULL CHECK (length(card_number) > 0),
    source      text        NOT NULL DEFAULT 'console' CHECK (source IN ('import', 'console')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX cards_tenant_number_key ON cards (tenant_id, card_number);
CREATE INDEX cards_user_idx ON cards (tenant_id, user_id);
