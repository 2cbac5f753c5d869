//! Console searches, pages and forms, and sign-in posts.

use super::*;

#[rustfmt::skip]
pub(crate) const PAGES: &[&str] = &[
    "1", "0", "-1", "2", "3", "9223372036854775807", "-9223372036854775808",
    "9223372036854775808", "184467440737095516150", "abc", "", "1.5", " 2", "+3", "1e2",
];

/// A console `page`: numbers, overflows, non-numbers.
pub(crate) fn page() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        3 => choice(PAGES),
        1 => any::<i64>().prop_map(|n| n.to_string().into_bytes()),
    ]
    .boxed()
}

/// Search-box text: anything, mutated now and then.
pub(crate) fn search_text() -> BoxedStrategy<Vec<u8>> {
    mutated_text(
        prop_oneof![3 => text(), 1 => one_of(&["%", "_", "\\", "%%", "a%b", "*", "fuzz"])].boxed(),
    )
}

/// `urlencoded` form fields, each encoded whole.
pub(crate) fn form_body(fields: &[(&str, Vec<u8>)]) -> String {
    fields
        .iter()
        .map(|(name, value)| format!("{}={}", encode(name.as_bytes()), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `GET /console/{list}?…` with these parameters.
pub(crate) fn console_list(
    list: &'static str,
    param: BoxedStrategy<QueryPart>,
) -> BoxedStrategy<Probe> {
    vec(param, 0..5)
        .prop_map(move |parts| Probe::console(format!("/console/{list}{}", query_string(&parts))))
        .boxed()
}

/// The users, groups and activity lists with junk in every box; pages by junk ids; the add-card
/// form; the sign-in settings form.
pub(crate) fn console_probe(targets: &Targets) -> BoxedStrategy<Probe> {
    let users = prop_oneof![
        3 => pair("q", search_text()),
        1 => pair("active", choice(&["", "active", "inactive", "all"])),
        1 => pair("source", choice(&["", "scim", "import", "console"])),
        2 => pair("page", page()),
        1 => raw_query(),
    ];
    let groups = prop_oneof![
        3 => pair("q", search_text()),
        2 => pair("page", page()),
        1 => raw_query(),
    ];
    let activity = prop_oneof![
        2 => pair("status", choice(&["", "failed", "succeeded", "all"])),
        2 => pair("resource", choice(&["", "User", "Group", "users"])),
        2 => pair("range", choice(&["", "24h", "7d", "30d", "1h"])),
        2 => pair("page", page()),
        1 => raw_query(),
    ];
    prop_oneof![
        4 => console_list("users", users.boxed()),
        2 => console_list("groups", groups.boxed()),
        2 => console_list("activity", activity.boxed()),
        2 => console_page(targets),
        3 => card_form(targets),
        2 => sign_in_settings_form(),
    ]
    .boxed()
}

/// A console page by id: the existing ones and junk.
pub(crate) fn console_page(targets: &Targets) -> BoxedStrategy<Probe> {
    let existing = vec![
        format!("/console/users/{}", targets.user),
        format!("/console/users/{}", targets.member),
        format!("/console/groups/{}", targets.group),
    ];
    prop_oneof![
        1 => select(existing),
        3 => (one_of(&["users", "groups", "activity", "import"]), junk_id())
            .prop_map(|(page, id)| format!("/console/{page}/{id}")),
        1 => choice(NUMBERS).prop_map(|n| format!("/console/activity/{}", encode(&n))),
    ]
    .prop_map(Probe::console)
    .boxed()
}

/// The CSRF field: mostly right, sometimes wrong or missing.
pub(crate) fn csrf() -> BoxedStrategy<Csrf> {
    prop_oneof![
        10 => Just(Csrf::Session),
        1 => text().prop_map(Csrf::Junk),
        1 => Just(Csrf::Omitted),
    ]
    .boxed()
}

/// Extra fields a form does not have.
pub(crate) fn extra_fields() -> BoxedStrategy<Vec<(String, Vec<u8>)>> {
    vec((re("[a-z_]{1,8}"), mutated_text(text())), 0..2).boxed()
}

/// A form post from these fields (a field `None` is left out).
pub(crate) fn form_probe(
    kind: Kind,
    sender: Sender,
    target: String,
    fields: Vec<(&str, Option<Vec<u8>>)>,
    extra: Vec<(String, Vec<u8>)>,
    csrf: Csrf,
) -> Probe {
    let mut present: Vec<(&str, Vec<u8>)> = fields
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect();
    present.extend(
        extra
            .iter()
            .map(|(name, value)| (name.as_str(), value.clone())),
    );
    let mut probe = Probe::form(kind, sender, target, &present);
    probe.csrf = Some(csrf);
    probe
}

/// The add-card form of a user (the target, now and then a junk id).
pub(crate) fn card_form(targets: &Targets) -> BoxedStrategy<Probe> {
    let user = prop_oneof![8 => Just(targets.user.clone()), 1 => junk_id()];
    let number = prop_oneof![
        3 => re("[0-9]{1,14}").prop_map(String::into_bytes),
        1 => re("[0-9A-Fa-f]{8}").prop_map(String::into_bytes),
        3 => mutated_text(text()),
        // Over the console's 64 KiB form limit.
        1 => (65_000usize..80_000).prop_map(|n| vec![b'1'; n]),
    ];
    (user, weighted(0.95, number), extra_fields(), csrf())
        .prop_map(|(user, number, extra, csrf)| {
            form_probe(
                Kind::Console,
                Sender::Console,
                format!("/console/users/{user}/cards"),
                vec![("card_number", number)],
                extra,
                csrf,
            )
        })
        .boxed()
}

/// The sign-in settings form of the second tenant.
pub(crate) fn sign_in_settings_form() -> BoxedStrategy<Probe> {
    let issuer = prop_oneof![
        2 => re("https://[a-z]{3,8}\\.example/").prop_map(String::into_bytes),
        1 => re("http://[a-z]{3,8}\\.example(:[0-9]{1,5})?").prop_map(String::into_bytes),
        2 => mutated_text(text()),
    ];
    (
        weighted(0.95, choice(&["openid", "password", "OpenID", ""])),
        weighted(0.8, issuer),
        weighted(0.8, mutated_text(text())),
        weighted(0.6, mutated_text(text())),
        weighted(0.4, choice(&["yes", "no"])),
        extra_fields(),
        csrf(),
    )
        .prop_map(
            |(auth_type, issuer, client_id, secret, confirm, extra, csrf)| {
                form_probe(
                    Kind::Console,
                    Sender::Settings,
                    "/console/settings/sign-in".into(),
                    vec![
                        ("auth_type", auth_type),
                        ("issuer", issuer),
                        ("client_id", client_id),
                        ("client_secret", secret),
                        ("confirm", confirm),
                    ],
                    extra,
                    csrf,
                )
            },
        )
        .boxed()
}

/// A new browser loads the sign-in page (with a junk `next` now and then) and posts junk.
pub(crate) fn sign_in_probe() -> BoxedStrategy<Probe> {
    let email = prop_oneof![
        3 => mutated_text(text()),
        1 => Just(b"admin@fuzz-settings.example".to_vec()),
    ];
    (
        weighted(0.5, mutated_text(text())),
        weighted(0.95, email),
        weighted(0.95, mutated_text(text())),
        weighted(0.5, mutated_text(text())),
        extra_fields(),
        csrf(),
    )
        .prop_map(|(page_next, email, password, next, extra, csrf)| {
            let page = match page_next {
                Some(next) => format!("/console/login?next={}", encode(&next)),
                None => "/console/login".to_owned(),
            };
            form_probe(
                Kind::SignIn,
                Sender::SignIn,
                page,
                vec![("email", email), ("password", password), ("next", next)],
                extra,
                csrf,
            )
        })
        .boxed()
}
