// @generated automatically by Diesel CLI.

diesel::table! {
    admin_emails (email_key, tenant_id, admin_id) {
        email_key -> Text,
        tenant_id -> Uuid,
        admin_id -> Uuid,
    }
}

diesel::table! {
    admin_invitations (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        email -> Text,
        role -> Text,
        token_hash -> Bytea,
        invited_by -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        accepted_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    admin_recovery_codes (tenant_id, admin_id, code_hash) {
        tenant_id -> Uuid,
        admin_id -> Uuid,
        code_hash -> Bytea,
        created_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    admin_sign_in_failures (tenant_id, admin_id, client_addr) {
        tenant_id -> Uuid,
        admin_id -> Uuid,
        client_addr -> Text,
        failures -> Int4,
        locked_until -> Nullable<Timestamptz>,
        last_failed_at -> Timestamptz,
    }
}

diesel::table! {
    admins (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        email -> Text,
        password_hash -> Nullable<Text>,
        must_change_password -> Bool,
        failed_logins -> Int4,
        locked_until -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        role -> Text,
        user_id -> Nullable<Uuid>,
        totp_secret -> Nullable<Text>,
        totp_enabled_at -> Nullable<Timestamptz>,
        totp_last_step -> Nullable<Int8>,
    }
}

diesel::table! {
    adoption_conflicts (tenant_id, user_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        matched_on -> Text,
        payload -> Jsonb,
        user_name -> Text,
        first_seen_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        attempts -> Int4,
        decision -> Nullable<Text>,
        decided_at -> Nullable<Timestamptz>,
        decided_by -> Nullable<Text>,
    }
}

diesel::table! {
    audit_log (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        at -> Timestamptz,
        actor -> Text,
        admin_id -> Nullable<Uuid>,
        action -> Text,
        target -> Nullable<Text>,
        detail -> Jsonb,
        client_addr -> Nullable<Text>,
        user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    breaker_trips (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        started_at -> Timestamptz,
        tripped_at -> Timestamptz,
        active_before -> Int4,
        threshold -> Int4,
        undone_at -> Nullable<Timestamptz>,
        undone_by -> Nullable<Text>,
        undone_users -> Nullable<Int4>,
        acknowledged_at -> Nullable<Timestamptz>,
        acknowledged_by -> Nullable<Text>,
    }
}

diesel::table! {
    cards (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        user_id -> Uuid,
        card_number -> Text,
        source -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    connection_tests (tenant_id) {
        tenant_id -> Uuid,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
        passed -> Nullable<Bool>,
        steps -> Jsonb,
    }
}

diesel::table! {
    console_group_roles (tenant_id, group_id) {
        tenant_id -> Uuid,
        group_id -> Uuid,
        role -> Text,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    deleted_users (tenant_id, user_id) {
        tenant_id -> Uuid,
        user_id -> Uuid,
        user_name -> Text,
        shown_name -> Text,
        deleted_at -> Timestamptz,
        deleted_by -> Text,
        purge_after -> Timestamptz,
        user_row -> Jsonb,
        cards -> Jsonb,
        group_ids -> Jsonb,
    }
}

diesel::table! {
    event_hours (tenant_id, hour) {
        tenant_id -> Uuid,
        hour -> Timestamptz,
        requests -> Int4,
        failures -> Int4,
    }
}

diesel::table! {
    event_rollup (single) {
        single -> Bool,
        rolled_until -> Timestamptz,
    }
}

diesel::table! {
    group_members (tenant_id, group_id, user_id) {
        tenant_id -> Uuid,
        group_id -> Uuid,
        user_id -> Uuid,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    groups (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        display_name -> Text,
        external_id -> Nullable<Text>,
        attributes -> Jsonb,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        display_name_key -> Text,
    }
}

diesel::table! {
    import_jobs (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        kind -> Text,
        status -> Text,
        file_name -> Text,
        total_rows -> Int4,
        processed_rows -> Int4,
        created_count -> Int4,
        updated_count -> Int4,
        error_count -> Int4,
        failure -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    import_rows (tenant_id, job_id, line) {
        tenant_id -> Uuid,
        job_id -> Uuid,
        line -> Int4,
        fields -> Jsonb,
        outcome -> Nullable<Text>,
        message -> Nullable<Text>,
    }
}

diesel::table! {
    notification_deliveries (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        notification_id -> Uuid,
        channel -> Text,
        endpoint_id -> Nullable<Uuid>,
        recipient -> Nullable<Text>,
        attempts -> Int4,
        next_attempt_at -> Timestamptz,
        last_attempt_at -> Nullable<Timestamptz>,
        last_status -> Nullable<Int4>,
        last_error -> Nullable<Text>,
        delivered_at -> Nullable<Timestamptz>,
        gave_up_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    notification_endpoints (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        url -> Text,
        secret_sealed -> Text,
        secret_last4 -> Text,
        enabled -> Bool,
        disabled_reason -> Nullable<Text>,
        failing_since -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    notifications (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        kind -> Text,
        occasion -> Text,
        data -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    pending_oidc_logins (tenant_id, state) {
        tenant_id -> Uuid,
        state -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        return_to -> Nullable<Text>,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        for_console -> Bool,
    }
}

diesel::table! {
    provisioning_events (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Int8,
        occurred_at -> Timestamptz,
        method -> Text,
        path -> Text,
        status -> Int2,
        resource_type -> Nullable<Text>,
        resource_id -> Nullable<Text>,
        token_id -> Nullable<Uuid>,
        duration_us -> Int8,
        error -> Nullable<Text>,
        payload -> Nullable<Jsonb>,
        operation -> Text,
        subject -> Nullable<Text>,
        response -> Nullable<Jsonb>,
        subject_key -> Nullable<Text>,
    }
}

diesel::table! {
    rejected_requests (tenant_id, minute, reason) {
        tenant_id -> Uuid,
        minute -> Timestamptz,
        reason -> Text,
        requests -> Int4,
        last_at -> Timestamptz,
        last_address -> Text,
        last_user_agent -> Nullable<Text>,
    }
}

diesel::table! {
    scim_tokens (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        token_hash -> Bytea,
        last4 -> Text,
        created_at -> Timestamptz,
        expires_at -> Timestamptz,
        replaces_id -> Nullable<Uuid>,
        retire_after -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
        revoked_reason -> Nullable<Text>,
        first_used_at -> Nullable<Timestamptz>,
        last_used_at -> Nullable<Timestamptz>,
        request_id -> Nullable<Text>,
        purpose -> Text,
    }
}

diesel::table! {
    sessions (tenant_id, token_hash) {
        tenant_id -> Uuid,
        token_hash -> Bytea,
        admin_id -> Nullable<Uuid>,
        user_id -> Nullable<Uuid>,
        csrf_token -> Text,
        created_at -> Timestamptz,
        last_seen_at -> Timestamptz,
        expires_at -> Timestamptz,
        awaiting_mfa -> Bool,
    }
}

diesel::table! {
    tenants (id) {
        id -> Uuid,
        name -> Text,
        scim_enabled -> Bool,
        auth_type -> Text,
        oidc_issuer -> Nullable<Text>,
        oidc_client_id -> Nullable<Text>,
        oidc_client_secret -> Nullable<Text>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        event_retention_days -> Nullable<Int2>,
        deprovisioning_alert_users -> Nullable<Int4>,
        provisioning_paused_at -> Nullable<Timestamptz>,
        provisioning_paused_by -> Nullable<Text>,
        adoption -> Text,
        deleted_user_retention_days -> Nullable<Int2>,
        shadow_of -> Nullable<Uuid>,
        shadow_tenant_id -> Nullable<Uuid>,
        shadow_started_at -> Nullable<Timestamptz>,
        shadow_started_by -> Nullable<Text>,
        console_provider_sign_in -> Bool,
        password_sign_in -> Text,
        mfa_required -> Bool,
    }
}

diesel::table! {
    users (tenant_id, id) {
        tenant_id -> Uuid,
        id -> Uuid,
        user_name -> Text,
        external_id -> Nullable<Text>,
        active -> Bool,
        display_name -> Nullable<Text>,
        given_name -> Nullable<Text>,
        family_name -> Nullable<Text>,
        email -> Nullable<Text>,
        source -> Text,
        attributes -> Jsonb,
        oidc_subject -> Nullable<Text>,
        version -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        deactivated_at -> Nullable<Timestamptz>,
        user_name_key -> Text,
        email_key -> Nullable<Text>,
        search_key -> Text,
        linked_at -> Nullable<Timestamptz>,
        linked_by -> Nullable<Text>,
    }
}

diesel::joinable!(admin_invitations -> tenants (tenant_id));
diesel::joinable!(admins -> tenants (tenant_id));
diesel::joinable!(adoption_conflicts -> tenants (tenant_id));
diesel::joinable!(audit_log -> tenants (tenant_id));
diesel::joinable!(breaker_trips -> tenants (tenant_id));
diesel::joinable!(connection_tests -> tenants (tenant_id));
diesel::joinable!(deleted_users -> tenants (tenant_id));
diesel::joinable!(groups -> tenants (tenant_id));
diesel::joinable!(import_jobs -> tenants (tenant_id));
diesel::joinable!(notification_endpoints -> tenants (tenant_id));
diesel::joinable!(notifications -> tenants (tenant_id));
diesel::joinable!(pending_oidc_logins -> tenants (tenant_id));
diesel::joinable!(rejected_requests -> tenants (tenant_id));
diesel::joinable!(scim_tokens -> tenants (tenant_id));
diesel::joinable!(sessions -> tenants (tenant_id));
diesel::joinable!(users -> tenants (tenant_id));

diesel::allow_tables_to_appear_in_same_query!(
    admin_emails,
    admin_invitations,
    admin_recovery_codes,
    admin_sign_in_failures,
    admins,
    adoption_conflicts,
    audit_log,
    breaker_trips,
    cards,
    connection_tests,
    console_group_roles,
    deleted_users,
    event_hours,
    event_rollup,
    group_members,
    groups,
    import_jobs,
    import_rows,
    notification_deliveries,
    notification_endpoints,
    notifications,
    pending_oidc_logins,
    provisioning_events,
    rejected_requests,
    scim_tokens,
    sessions,
    tenants,
    users,
);
