//! The RFC 7643 §7 JSON representation of a schema, as served by the `/Schemas` endpoint.

use serde_json::{Map, Value, json};

use super::{AttrType, Attribute, SCHEMA_SCHEMA, Schema};

/// Renders `schema` for `/Schemas`, with `meta.location` under `location_base`
/// (the SCIM base URL, e.g. `https://example.com/scim/v2`).
pub fn schema_json(schema: &Schema, location_base: &str) -> Value {
    let base = location_base.trim_end_matches('/');
    json!({
        "schemas": [SCHEMA_SCHEMA],
        "id": schema.id,
        "name": schema.name,
        "description": schema.description,
        "attributes": schema.attributes.iter().map(attribute_json).collect::<Vec<_>>(),
        "meta": {
            "resourceType": "Schema",
            "location": format!("{base}/Schemas/{}", schema.id),
        },
    })
}

fn attribute_json(attr: &Attribute) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), attr.name.into());
    out.insert("type".into(), attr.kind.as_str().into());
    out.insert("multiValued".into(), attr.multi_valued.into());
    out.insert("description".into(), attr.description.into());
    out.insert("required".into(), attr.required.into());
    out.insert("caseExact".into(), attr.case_exact.into());
    if !attr.canonical_values.is_empty() {
        out.insert("canonicalValues".into(), attr.canonical_values.into());
    }
    if attr.kind == AttrType::Reference {
        out.insert("referenceTypes".into(), attr.reference_types.into());
    }
    if attr.kind == AttrType::Complex {
        let subs = attr.sub_attributes.iter().map(attribute_json).collect();
        out.insert("subAttributes".into(), Value::Array(subs));
    }
    out.insert("mutability".into(), attr.mutability.as_str().into());
    out.insert("returned".into(), attr.returned.as_str().into());
    out.insert("uniqueness".into(), attr.uniqueness.as_str().into());
    Value::Object(out)
}
