//! POST and PUT bodies, odd paths, methods and `Authorization` headers.

use super::*;

/// `POST /Users`, `PUT /Users/{id}`, `POST /Groups`, `PUT /Groups/{id}` with generated bodies.
pub(crate) fn resource_probe(targets: &Targets) -> BoxedStrategy<Probe> {
    let scim = &targets.scim;
    let users = vec![
        (Method::POST, format!("{scim}/Users")),
        (Method::POST, format!("{scim}/Users")),
        (Method::PUT, format!("{scim}/Users/{}", targets.user)),
        (Method::PUT, format!("{scim}/Users/{}", targets.member)),
    ];
    let groups = vec![
        (Method::POST, format!("{scim}/Groups")),
        (Method::PUT, format!("{scim}/Groups/{}", targets.group)),
    ];
    let huge_user = huge_body(
        json!({"schemas": [USER_SCHEMA, ENTERPRISE], "userName": "huge@example.com"}),
        &[
            "userName",
            "displayName",
            "title",
            "externalId",
            "x",
            ENTERPRISE,
        ],
    );
    let huge_group = huge_body(
        json!({"schemas": [GROUP_SCHEMA], "displayName": "Huge"}),
        &["displayName", "externalId"],
    );
    let request = prop_oneof![
        90 => (select(users.clone()), body_of(user_document(targets))),
        60 => (select(groups.clone()), body_of(group_document(targets))),
        1 => (select(users), huge_user),
        1 => (select(groups), huge_group),
    ];
    (request, content_type())
        .prop_map(|(((method, path), body), content_type)| {
            Probe::scim(Kind::Resource, method, path).with_body(content_type, body)
        })
        .boxed()
}

// Odd paths, methods and Authorization headers

/// Paths under the tenant base that are not resources by id.
#[rustfmt::skip]
pub(crate) const FIXED_PATHS: &[&str] = &[
    "", "/", "/Bulk", "/Me", "/.search", "/users", "/USERS", "/Users/", "//Users", "/Users//",
    "/Users/.search", "/Groups/.search", "/ServiceProviderConfig", "/ServiceProviderConfig/x",
    "/Schemas", "/ResourceTypes", "/Users/.search/x", "/ResourceTypes/User", "/Schemas/urn:x",
    "/Users?filter", "/Users;a=b", "/Users%2F", "/%55sers", "/Groups/", "/Users/me",
    "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
];

/// `Authorization` headers that are not the token, now and then.
pub(crate) fn auth() -> BoxedStrategy<Auth> {
    let around = [
        ("bearer ", ""),
        ("BEARER ", ""),
        ("Bearer  ", ""),
        ("Bearer ", " x"),
        ("Bearer ", ","),
        ("Basic ", ""),
        ("", ""),
        ("Bearer\t", ""),
        ("Bearer ", "\u{e9}"),
        ("Token ", ""),
    ]
    .map(|(before, after)| Auth::AroundToken(before.to_owned(), after.to_owned()));
    prop_oneof![
        20 => Just(Auth::Token),
        1 => Just(Auth::Missing),
        1 => re("scim_[A-Za-z0-9]{32}").prop_map(|t| Auth::Raw(format!("Bearer {t}").into_bytes())),
        1 => select(around.to_vec()),
        1 => one_of(&["Bearer", "Bearer ", "Bearer scim_", " ", "Bearer a b", "Negotiate x"])
            .prop_map(|s| Auth::Raw(s.into_bytes())),
        1 => vec(any::<u8>(), 0..40).prop_map(Auth::Raw),
    ]
    .boxed()
}

/// The usual methods, and made-up ones.
pub(crate) fn method() -> BoxedStrategy<Method> {
    prop_oneof![
        8 => select(vec![Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE,
                         Method::HEAD, Method::OPTIONS, Method::TRACE]),
        1 => re("[A-Z]{3,8}|get|[a-z]{1,5}").prop_filter_map("a method reqwest can send", |m| {
            // CONNECT takes an authority, not a path: not a request to a resource.
            (m != "CONNECT").then(|| Method::from_bytes(m.as_bytes()).ok()).flatten()
        }),
    ]
    .boxed()
}

/// Any method to a path under the tenant base that is unknown, junk, or an id that is not a
/// UUID; the existing resources only with methods that leave them as they are.
pub(crate) fn odd_path_probe(targets: &Targets) -> BoxedStrategy<Probe> {
    let scim = targets.scim.clone();
    let existing = vec![
        format!("/Users/{}", targets.user),
        format!("/Groups/{}", targets.group),
    ];
    let path = prop_oneof![
        3 => (one_of(&["/Users/", "/Groups/"]), junk_id()).prop_map(|(p, id)| (format!("{p}{id}"), false)),
        1 => (one_of(&["/Schemas/", "/ResourceTypes/"]), junk_id()).prop_map(|(p, id)| (format!("{p}{id}"), false)),
        2 => one_of(FIXED_PATHS).prop_map(|p| (p, false)),
        1 => junk_id().prop_map(|id| (format!("/{id}"), false)),
        1 => (junk_id(), junk_id()).prop_map(|(a, b)| (format!("/Users/{a}/{b}"), false)),
        1 => (select(existing), junk_id()).prop_map(|(p, tail)| (format!("{p}/{tail}"), false)),
        1 => select(vec![
            format!("/Users/{}", targets.user),
            format!("/Groups/{}", targets.group),
        ])
        .prop_map(|p| (p, true)),
    ];
    let body = weighted(
        0.3,
        prop_oneof![
            json_value().prop_map(|v| v.to_string().into_bytes()),
            text().prop_map(String::into_bytes),
        ],
    );
    (path, method(), auth(), body, content_type())
        .prop_map(
            move |((path, existing), method, auth, body, content_type)| {
                let method = if existing
                    && ![Method::GET, Method::HEAD, Method::OPTIONS].contains(&method)
                {
                    Method::GET
                } else {
                    method
                };
                let mut probe = Probe::scim(Kind::OddPath, method, format!("{scim}{path}"));
                probe.auth = auth;
                match body {
                    Some(body) => probe.with_body(content_type, body),
                    None => probe,
                }
            },
        )
        .boxed()
}
