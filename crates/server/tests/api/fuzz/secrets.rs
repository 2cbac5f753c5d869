//! Passwords in every position, the regressions sent first on every run, and the mix of all probes.

use super::*;

/// A marked password in one of the positions a client can put one: resource bodies (plain,
/// URN-qualified, inside the core schema object), PATCH by path and path-less, filters in the
/// query and in `.search` bodies.
pub(crate) fn secret_probe(targets: &Targets) -> BoxedStrategy<Probe> {
    let scim = targets.scim.clone();
    let user = format!("{scim}/Users/{}", targets.user);
    (0usize..14, re("[A-Za-z0-9 \"%&+/=\\\\]{6,16}"), re("[a-z]{12}"))
        .prop_map(move |(position, tail, name)| {
            let secret = format!("{SECRET}{tail}");
            let quoted = Value::String(secret.clone()).to_string();
            let user_name = format!("{name}@secret.example");
            let post = |body: Value| {
                Probe::scim(Kind::Secret, Method::POST, format!("{scim}/Users"))
                    .with_body(Some(SCIM_JSON.into()), body.to_string().into_bytes())
            };
            let patch = |operations: Value| {
                Probe::scim(Kind::Secret, Method::PATCH, user.clone()).with_body(
                    Some(SCIM_JSON.into()),
                    json!({"schemas": [PATCH_OP], "Operations": operations})
                        .to_string()
                        .into_bytes(),
                )
            };
            let list = |filter: String| {
                Probe::scim(
                    Kind::Secret,
                    Method::GET,
                    format!("{scim}/Users?filter={}", encode(filter.as_bytes())),
                )
            };
            let search = |filter: String| {
                Probe::scim(Kind::Secret, Method::POST, format!("{scim}/Users/.search"))
                    .with_body(
                        Some(SCIM_JSON.into()),
                        json!({"schemas": [SEARCH_REQUEST], "filter": filter})
                            .to_string()
                            .into_bytes(),
                    )
            };
            match position {
                0 => post(json!({"schemas": [USER_SCHEMA], "userName": user_name, "password": secret})),
                1 => post(json!({"schemas": [USER_SCHEMA], "userName": user_name, CORE_PASSWORD: secret})),
                2 => post(json!({"schemas": [USER_SCHEMA], "userName": user_name, USER_SCHEMA: {"password": secret}})),
                3 => Probe::scim(Kind::Secret, Method::PUT, user.clone()).with_body(
                    Some(SCIM_JSON.into()),
                    json!({"schemas": [USER_SCHEMA], "userName": TARGET_NAME, "password": secret})
                        .to_string()
                        .into_bytes(),
                ),
                4 => patch(json!([{"op": "replace", "path": "password", "value": secret}])),
                5 => patch(json!([{"op": "Add", "path": "password", "value": secret}])),
                6 => patch(json!([{"op": "replace", "path": CORE_PASSWORD, "value": secret}])),
                7 => patch(json!([{"op": "replace", "value": {"password": secret, "active": true}}])),
                8 => patch(json!([{"op": "add", "value": {CORE_PASSWORD: secret}}])),
                9 => list(format!("password eq {quoted}")),
                10 => list(format!("userName pr and {CORE_PASSWORD} eq {quoted}")),
                11 => search(format!("password eq {quoted}")),
                12 => search(format!("not (password sw {quoted}) or userName pr")),
                _ => patch(json!([
                    {"op": "replace", "path": "displayName", "value": "Secret"},
                    {"op": "REPLACE", "path": "PASSWORD", "value": secret}
                ])),
            }
        })
        .boxed()
}

/// Inputs that once failed, sent first on every run whatever the seed draws.
pub(crate) fn regressions(targets: &Targets) -> Vec<Probe> {
    let scim = &targets.scim;
    // A string value holding an escaped NUL (`\u0000`) in a filter answered 500.
    let nul = r#"userName eq "\u0000""#;
    vec![
        Probe::scim(
            Kind::Filter,
            Method::GET,
            format!("{scim}/Users?filter={}", encode(nul.as_bytes())),
        ),
        Probe::scim(Kind::Search, Method::POST, format!("{scim}/Groups/.search")).with_body(
            Some(SCIM_JSON.into()),
            json!({"schemas": [SEARCH_REQUEST], "filter": r#"displayName eq "\u0000""#})
                .to_string()
                .into_bytes(),
        ),
    ]
}

/// Every kind of request, weighted towards the SCIM surface an identity provider reaches.
pub(crate) fn probe(targets: &Targets) -> BoxedStrategy<Probe> {
    prop_oneof![
        26 => list_probe(targets),
        6 => search_probe(targets),
        22 => patch_probe(targets),
        18 => resource_probe(targets),
        10 => odd_path_probe(targets),
        12 => console_probe(targets),
        1 => sign_in_probe(),
        5 => secret_probe(targets),
    ]
    .boxed()
}
