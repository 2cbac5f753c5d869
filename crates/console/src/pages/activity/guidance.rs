//! What an admin should do about a failed request, in the words of the identity provider's own
//! console (Okta, Entra ID), and the request's path as a person reads it (percent-decoded).

use tenancy::events::EventRow;

/// One sentence on what to do about the failed `event`, or `None` for a success.
pub fn what_to_do(event: &EventRow) -> Option<&'static str> {
    if event.status < 400 {
        return None;
    }
    let scim_type = event
        .response
        .as_ref()
        .and_then(|body| body.get("scimType"))
        .and_then(|t| t.as_str())
        .unwrap_or_default();
    let group = event.resource_type.as_deref() == Some("Group");
    Some(match (event.status, scim_type) {
        (409, _) if group => {
            "A group with this name already exists here. In Okta, open Push Groups and link the pushed group to the existing one (Link Group) instead of creating it; in Entra ID, make sure the group's matching attribute (displayName) maps to the existing group."
        }
        (409, _) => {
            "A user with this userName already exists here, so the identity provider is creating a user it should have matched. In Okta, check the app's Provisioning > To App mapping of userName (and run Import to link existing users); in Entra ID, check the matching attribute (userPrincipalName → userName) under Provisioning > Mappings."
        }
        (400, "invalidFilter") => {
            "Insights could not use the filter the identity provider sent. Okta and Entra ID look users up by userName and groups by displayName; if a custom attribute is used as the matching attribute, change it back to userName (or externalId) in the provisioning mappings."
        }
        (400, "invalidValue") => {
            "A value was refused (for example an empty userName, a malformed e-mail address or a value too long). Correct the attribute mapping or the user's profile in the identity provider, then retry the failed task (Okta: Dashboard > Tasks; Entra ID: Provision on demand)."
        }
        (400, "invalidSyntax") => {
            "The request body was not valid SCIM. This usually comes from a custom attribute expression in the identity provider's mappings; check the expressions of the attributes this request carried."
        }
        (400, "invalidPath" | "noTarget") => {
            "The request changed an attribute Insights does not know. Remove the attribute from the identity provider's provisioning mappings, or map it to one of the attributes listed under Schemas."
        }
        (400, "mutability") => {
            "The request tried to change an attribute that cannot be changed (such as id). Remove it from the identity provider's attribute mappings."
        }
        (400, _) => {
            "The request was refused as invalid. Its error names the attribute; correct that attribute's mapping in the identity provider and retry the failed task."
        }
        (404, _) if group => {
            "The group no longer exists here, but the identity provider still holds its id. In Okta, unlink the group under Push Groups and push it again; in Entra ID, restart provisioning (Provisioning > Restart provisioning) so that it forgets the old id."
        }
        (404, _) => {
            "The user no longer exists here, but the identity provider still holds its id. In Okta, unassign and reassign the user to the app; in Entra ID, restart provisioning (Provisioning > Restart provisioning) so that it forgets the old id."
        }
        (401 | 403, _) => {
            "The request's token was refused. Paste the current token into the identity provider (Okta: OAuth Bearer Token; Entra ID: Secret Token) and test the connection there."
        }
        (412, _) => {
            "The resource had changed since the identity provider last read it (its version no longer matched). The identity provider reads it again and retries; nothing needs doing unless this repeats."
        }
        (413, _) => {
            "The request was larger than Insights accepts. Push very large groups in parts (Okta pushes members in batches on its own; in Entra ID, use nested groups or assign fewer members per group)."
        }
        (429 | 503, _) => {
            "Insights asked the identity provider to wait and retry (it was busy or briefly unavailable). Okta and Entra ID retry on their own; nothing needs doing unless this repeats."
        }
        _ => {
            "Insights could not answer this request. The identity provider retries it; if it keeps failing, contact Insights support with the time and the event number."
        }
    })
}

/// The path with its query string percent-decoded, as a person reads it
/// (`/Users?filter=userName eq "jane@corp.example"`).
pub fn decoded_path(path: &str) -> String {
    let (base, query) = path.split_once('?').unwrap_or((path, ""));
    let mut out = percent_decoded(base, false);
    if !query.is_empty() {
        out.push('?');
        let parts: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) => {
                    format!(
                        "{}={}",
                        percent_decoded(key, true),
                        percent_decoded(value, true)
                    )
                }
                None => percent_decoded(pair, true),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

/// `text` with `%XX` escapes (and, in a query, `+`) decoded; a sequence that is not valid
/// UTF-8 is shown with replacement characters, an incomplete escape as it is.
fn percent_decoded(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_shown_decoded() {
        assert_eq!(
            decoded_path("/Users?filter=userName%20eq%20%22jane%40corp.example%22&startIndex=1"),
            "/Users?filter=userName eq \"jane@corp.example\"&startIndex=1"
        );
        assert_eq!(
            decoded_path("/Groups?filter=displayName+eq+%22A%2BB%22"),
            "/Groups?filter=displayName eq \"A+B\""
        );
        assert_eq!(decoded_path("/Users/a%20b"), "/Users/a b");
        assert_eq!(decoded_path("/Users/100%"), "/Users/100%");
        assert_eq!(decoded_path("/Users/%zz"), "/Users/%zz");
        assert_eq!(decoded_path("/Users/%e2%82"), "/Users/\u{FFFD}");
        assert_eq!(decoded_path("/Users/%C3%A7"), "/Users/ç");
    }
}
