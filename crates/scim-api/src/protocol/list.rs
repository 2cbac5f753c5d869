//! List requests (`filter`, `startIndex`, `count`, `sortBy`, `sortOrder`, `attributes`,
//! `excludedAttributes`) and the ListResponse message (RFC 7644 §3.4.2).

use scim_protocol::{Filter, parse_filter};
use serde_json::{Value, json};

use crate::error::ScimError;

/// Resources per page when the client does not say.
pub const DEFAULT_COUNT: i64 = 100;
/// The most resources one page returns (`filter.maxResults` in ServiceProviderConfig).
pub const MAX_COUNT: i64 = 1000;
/// The ListResponse message schema.
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// The query parameters of a list (or of a single-resource GET, which uses only projection).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListQuery {
    /// The parsed filter.
    pub filter: Option<Filter>,
    /// 1-based index of the first result (values below 1 mean 1).
    pub start_index: i64,
    /// Page size, 0..=MAX_COUNT.
    pub count: i64,
    /// `sortBy`, as sent.
    pub sort_by: Option<String>,
    /// `sortOrder=descending`.
    pub descending: bool,
    /// `attributes`, comma-separated, as sent.
    pub attributes: Vec<String>,
    /// `excludedAttributes`, comma-separated, as sent.
    pub excluded_attributes: Vec<String>,
}

impl ListQuery {
    /// Parses a raw query string. Parameter names are matched case-insensitively.
    pub fn parse(query: &str) -> Result<Self, ScimError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|_| ScimError::invalid_value("The query string is malformed."))?;
        Self::from_params(|name| {
            pairs
                .iter()
                .rev()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        })
    }

    /// Reads the body of `POST /.search` (RFC 7644 §3.4.3): the same parameters as a JSON
    /// object, with `attributes` and `excludedAttributes` as arrays of names.
    pub fn from_search_request(body: &Value) -> Result<Self, ScimError> {
        let Value::Object(map) = body else {
            return Err(ScimError::invalid_syntax(
                "The search request must be a JSON object.",
            ));
        };
        let mut params = Vec::with_capacity(map.len());
        for (key, value) in map {
            let text = match value {
                Value::Null => continue,
                Value::String(text) => text.clone(),
                Value::Number(n) => n.to_string(),
                Value::Array(items) if !key.eq_ignore_ascii_case("schemas") => items
                    .iter()
                    .map(|item| {
                        item.as_str().map(str::to_owned).ok_or_else(|| {
                            ScimError::invalid_value(format!(
                                "\"{key}\" must be an array of attribute names."
                            ))
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(","),
                _ if key.eq_ignore_ascii_case("schemas") => continue,
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "\"{key}\" has a value of the wrong type."
                    )));
                }
            };
            params.push((key.clone(), text));
        }
        Self::from_params(|name| {
            params
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        })
    }

    /// Builds the query from a lookup of raw parameter values by name.
    fn from_params(get: impl Fn(&str) -> Option<String>) -> Result<Self, ScimError> {
        // PostgreSQL text cannot hold U+0000, so no value containing it can match anything.
        let get = |name: &str| -> Result<Option<String>, ScimError> {
            match get(name) {
                Some(value) if value.contains('\0') => Err(ScimError::invalid_value(format!(
                    "\"{name}\" must not contain the NUL character."
                ))),
                other => Ok(other),
            }
        };
        let integer = |name: &str| -> Result<Option<i64>, ScimError> {
            get(name)?
                .map(|v| {
                    v.trim().parse::<i64>().map_err(|_| {
                        ScimError::invalid_value(format!(
                            "\"{name}\" must be an integer, got \"{v}\"."
                        ))
                    })
                })
                .transpose()
        };
        let filter = match get("filter")? {
            Some(text) if !text.trim().is_empty() => Some(parse_filter(&text)?),
            _ => None,
        };
        let list = |name: &str| -> Result<Vec<String>, ScimError> {
            Ok(get(name)?
                .map(|v| {
                    v.split(',')
                        .map(|a| a.trim().to_owned())
                        .filter(|a| !a.is_empty())
                        .collect()
                })
                .unwrap_or_default())
        };
        let descending = match get("sortOrder")? {
            None => false,
            Some(order) if order.eq_ignore_ascii_case("ascending") => false,
            Some(order) if order.eq_ignore_ascii_case("descending") => true,
            Some(order) => {
                return Err(ScimError::invalid_value(format!(
                    "\"sortOrder\" must be ascending or descending, got \"{order}\"."
                )));
            }
        };
        Ok(Self {
            filter,
            start_index: integer("startIndex")?.unwrap_or(1).max(1),
            count: integer("count")?
                .unwrap_or(DEFAULT_COUNT)
                .clamp(0, MAX_COUNT),
            sort_by: get("sortBy")?.filter(|s| !s.trim().is_empty()),
            descending,
            attributes: list("attributes")?,
            excluded_attributes: list("excludedAttributes")?,
        })
    }
}

/// A ListResponse with `totalResults`, `startIndex` and `itemsPerPage` consistent with the page.
pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> Value {
    // Built by hand: `json!` would serialise the resources into a second copy.
    let mut map = serde_json::Map::new();
    map.insert("schemas".into(), json!([LIST_RESPONSE_SCHEMA]));
    map.insert("totalResults".into(), total.into());
    map.insert("startIndex".into(), start_index.into());
    map.insert("itemsPerPage".into(), resources.len().into());
    map.insert("Resources".into(), Value::Array(resources));
    Value::Object(map)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn okta_lookup_query_parses() -> Result<(), ScimError> {
        let q = ListQuery::parse("filter=userName%20eq%20%22a%40b.c%22&startIndex=1&count=100")?;
        assert!(q.filter.is_some());
        assert_eq!((q.start_index, q.count), (1, 100));
        Ok(())
    }

    #[test]
    fn paging_values_are_clamped() -> Result<(), ScimError> {
        let q = ListQuery::parse("startIndex=-5&count=100000")?;
        assert_eq!((q.start_index, q.count), (1, MAX_COUNT));
        let q = ListQuery::parse("COUNT=0")?;
        assert_eq!(q.count, 0);
        Ok(())
    }

    #[test]
    fn a_search_request_body_reads_like_the_query_string() -> Result<(), ScimError> {
        let q = ListQuery::from_search_request(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "attributes": ["userName", "name.givenName"],
            "excludedAttributes": ["emails"],
            "filter": "userName sw \"a\"",
            "sortOrder": "descending",
            "startIndex": 3,
            "count": 7
        }))?;
        assert!(q.filter.is_some());
        assert_eq!(q.attributes, vec!["userName", "name.givenName"]);
        assert_eq!(q.excluded_attributes, vec!["emails"]);
        assert!(q.descending);
        assert_eq!((q.start_index, q.count), (3, 7));
        assert!(
            matches!(ListQuery::from_search_request(&json!({"count": "ten"})), Err(e) if e.scim_type == Some("invalidValue"))
        );
        assert!(
            matches!(ListQuery::from_search_request(&json!({"attributes": [1]})), Err(e) if e.scim_type == Some("invalidValue"))
        );
        Ok(())
    }

    #[test]
    fn bad_values_are_scim_errors() {
        assert!(
            matches!(ListQuery::parse("count=ten"), Err(e) if e.scim_type == Some("invalidValue"))
        );
        assert!(
            matches!(ListQuery::parse("filter=userName%20qq%20%22x%22"), Err(e) if e.scim_type == Some("invalidFilter"))
        );
        assert!(
            matches!(ListQuery::parse("sortOrder=up"), Err(e) if e.scim_type == Some("invalidValue"))
        );
    }
}
