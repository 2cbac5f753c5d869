//! What the user page shows of a user's SCIM document, in words: the core attributes Okta and
//! Entra send (title, phone numbers, addresses, locale…) and the enterprise extension
//! (department, manager, employee number, organisation…), skipping what is empty.

use serde_json::Value;

/// The enterprise user extension's schema URN.
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// One labelled fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// "Title", "Work phone", …
    pub label: String,
    /// The value as shown.
    pub value: String,
}

/// The user's manager as the identity provider sent it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManagerRef {
    /// `manager.value`: the manager's id (in Insights when the IdP pushes managers too).
    pub value: Option<String>,
    /// `manager.displayName`.
    pub display_name: Option<String>,
}

/// The user's title (core `title`).
pub fn title(doc: &Value) -> Option<String> {
    text(doc.get("title"))
}

/// The user's department (enterprise extension).
pub fn department(doc: &Value) -> Option<String> {
    text(doc.get(ENTERPRISE).and_then(|e| e.get("department")))
}

/// The manager reference, if any.
pub fn manager(doc: &Value) -> Option<ManagerRef> {
    let manager = doc.get(ENTERPRISE)?.get("manager")?;
    let found = ManagerRef {
        value: text(manager.get("value")),
        display_name: text(manager.get("displayName")),
    };
    (found.value.is_some() || found.display_name.is_some()).then_some(found)
}

/// The work facts, in the order an admin reads them.
pub fn work_facts(doc: &Value) -> Vec<Fact> {
    let enterprise = doc.get(ENTERPRISE);
    let from_enterprise = |key: &str| text(enterprise.and_then(|e| e.get(key)));
    let mut facts = Vec::new();
    let mut push = |label: &str, value: Option<String>| {
        if let Some(value) = value {
            facts.push(Fact {
                label: label.into(),
                value,
            });
        }
    };
    push("Title", title(doc));
    push("Department", department(doc));
    push("Organisation", from_enterprise("organization"));
    push("Division", from_enterprise("division"));
    push("Cost centre", from_enterprise("costCenter"));
    push("Employee number", from_enterprise("employeeNumber"));
    push("User type", text(doc.get("userType")));
    facts
}

/// Phone numbers, addresses, locale, language and time zone.
pub fn contact_facts(doc: &Value) -> Vec<Fact> {
    let mut facts = Vec::new();
    for phone in list(doc, "phoneNumbers") {
        if let Some(value) = text(phone.get("value")) {
            facts.push(Fact {
                label: typed_label(phone, "phone"),
                value,
            });
        }
    }
    for address in list(doc, "addresses") {
        if let Some(value) = address_text(address) {
            facts.push(Fact {
                label: typed_label(address, "address"),
                value,
            });
        }
    }
    for (label, key) in [
        ("Locale", "locale"),
        ("Preferred language", "preferredLanguage"),
        ("Time zone", "timezone"),
    ] {
        if let Some(value) = text(doc.get(key)) {
            facts.push(Fact {
                label: label.into(),
                value,
            });
        }
    }
    facts
}

/// "Work phone", "Mobile phone", "Phone" (no type), with "(primary)" when marked.
fn typed_label(item: &Value, noun: &str) -> String {
    let mut label = match text(item.get("type")) {
        Some(kind) => format!("{} {noun}", capitalised(&kind)),
        None => capitalised(noun),
    };
    if item.get("primary").and_then(Value::as_bool) == Some(true) {
        label.push_str(" (primary)");
    }
    label
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// An address on one line: `formatted`, else its parts.
fn address_text(address: &Value) -> Option<String> {
    if let Some(formatted) = text(address.get("formatted")) {
        return Some(formatted.replace(['\r', '\n'], ", "));
    }
    let part = |key: &str| text(address.get(key));
    let city_line = [part("postalCode"), part("locality")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let parts: Vec<String> = [
        part("streetAddress"),
        (!city_line.is_empty()).then_some(city_line),
        part("region"),
        part("country"),
    ]
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn list<'a>(doc: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    doc.get(key).and_then(Value::as_array).into_iter().flatten()
}

/// A non-empty string value (numbers are shown as written; an IdP may send employee numbers
/// as numbers).
fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn okta_user() -> Value {
        json!({
            "userName": "cagla@example.com",
            "title": "Engineering Manager",
            "phoneNumbers": [{"value": "+90 555 0101", "type": "mobile", "primary": true}, {"value": "+90 212 0000"}],
            "addresses": [{"type": "work", "streetAddress": "Büyükdere Cd. 1", "locality": "İstanbul",
                           "postalCode": "34394", "country": "TR"}],
            "locale": "tr-TR",
            ENTERPRISE: {"department": "Platform", "employeeNumber": 4711, "costCenter": "",
                         "manager": {"value": "9f0c…", "displayName": "Zoë Dubois"}}
        })
    }

    #[test]
    fn the_enterprise_attributes_are_read() {
        let doc = okta_user();
        assert_eq!(title(&doc).as_deref(), Some("Engineering Manager"));
        assert_eq!(department(&doc).as_deref(), Some("Platform"));
        let labels: Vec<(String, String)> = work_facts(&doc)
            .into_iter()
            .map(|f| (f.label, f.value))
            .collect();
        assert_eq!(
            labels,
            vec![
                ("Title".into(), "Engineering Manager".into()),
                ("Department".into(), "Platform".into()),
                ("Employee number".into(), "4711".into()),
            ],
            "empty values (the cost centre) are left out"
        );
        assert_eq!(
            manager(&doc).and_then(|m| m.display_name).as_deref(),
            Some("Zoë Dubois")
        );
    }

    #[test]
    fn phones_and_addresses_are_labelled_by_type() {
        let facts = contact_facts(&okta_user());
        let shown: Vec<String> = facts
            .iter()
            .map(|f| format!("{}: {}", f.label, f.value))
            .collect();
        assert_eq!(
            shown,
            vec![
                "Mobile phone (primary): +90 555 0101",
                "Phone: +90 212 0000",
                "Work address: Büyükdere Cd. 1, 34394 İstanbul, TR",
                "Locale: tr-TR",
            ]
        );
    }

    #[test]
    fn a_user_without_extension_has_no_facts() {
        let doc = json!({"userName": "a"});
        assert!(work_facts(&doc).is_empty());
        assert!(contact_facts(&doc).is_empty());
        assert_eq!(manager(&doc), None);
    }
}
