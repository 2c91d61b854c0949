//! An example for every JSON request and response body, built from its schema with
//! realistic values for well-known field names.

use serde_json::{json, Map, Value};

const DEPTH: usize = 6;

fn hint(field: &str) -> Option<Value> {
    Some(match field {
        "email" | "actor_email" | "owner_email" => json!("ada@example.com"),
        "password" => json!("correct horse battery"),
        "display_name" => json!("Ada"),
        "name" => json!("Sales phone"),
        "phone" | "to" | "from" | "peer" => json!("15551234567"),
        "push_name" => json!("Ada's phone"),
        "text" | "caption" => json!("Hello from wahub"),
        "secret" => json!("whsec-0123456789abcdef"),
        "access_token" => json!("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl"),
        "refresh_token" => json!("rt_4f1c9a7e0b6d4c2a9e8f7a6b5c4d3e2f"),
        "key" => json!("wh_live_0123456789abcdef0123456789abcdef"),
        "prefix" => json!("wh_live_0123"),
        "value" => json!("2@AbCdEfGhIjKlMnOp,QrStUvWxYz0123456789=,abcdefghijklmno=,0123456789abcdef="),
        "code" => json!("ABCD-EFGH"),
        "mimetype" | "media_mimetype" => json!("image/png"),
        "filename" => json!("photo.png"),
        "data_base64" => json!("iVBORw0KGgo="),
        "external_id" => json!("3EB0C767D26A1B2C"),
        "version" => json!(env!("CARGO_PKG_VERSION")),
        "node" => json!("node-a"),
        "ip" => json!("203.0.113.7"),
        "detail" => json!({ "name": "Sales phone" }),
        "error" | "last_error" => json!("timeout"),
        "last_status_code" => json!(200),
        "action" => json!("session_deleted"),
        "target_type" => json!("session"),
        _ => return None,
    })
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let name = r.rsplit('/').next().unwrap_or_default();
            &doc["components"]["schemas"][name]
        }
        None => schema,
    }
}

fn example(doc: &Value, schema: &Value, field: &str, depth: usize) -> Value {
    let schema = resolve(doc, schema);
    if depth == 0 {
        return Value::Null;
    }
    if let Some(e) = schema.get("example") {
        return e.clone();
    }
    if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
        // The last part carries the narrowing (enum of codes); the first the shape.
        let mut merged = Map::new();
        for part in all {
            if let Value::Object(o) = example(doc, part, field, depth - 1) {
                merged.extend(o);
            }
        }
        return if merged.is_empty() {
            all.first().map_or(Value::Null, |p| example(doc, p, field, depth - 1))
        } else {
            Value::Object(merged)
        };
    }
    if let Some(first) = schema.get("enum").and_then(Value::as_array).and_then(|v| v.iter().find(|v| !v.is_null())) {
        return first.clone();
    }
    if let Some(d) = schema.get("default") {
        return d.clone();
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("object") | None if schema.get("properties").is_some() => {
            let mut out = Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (name, p) in props {
                    out.insert(name.clone(), example(doc, p, name, depth - 1));
                }
            }
            Value::Object(out)
        }
        Some("array") => json!([example(doc, &schema["items"], field, depth - 1)]),
        Some("boolean") => json!(true),
        Some("integer") => hint(field)
            .filter(Value::is_number)
            .unwrap_or_else(|| json!(schema.get("minimum").and_then(Value::as_f64).map_or(1, |m| m as i64).max(1))),
        Some("number") => json!(12.5),
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("uuid") => json!("0b8f4d2e-6c1a-4f3b-9a7e-2d5c8e1f0a94"),
            Some("date-time") => json!("2026-01-02T03:04:05.678901Z"),
            Some("uri") => json!("https://example.com/hooks/wahub"),
            Some("email") => json!("ada@example.com"),
            Some("binary") => Value::Null,
            _ => hint(field).filter(Value::is_string).unwrap_or(json!("string")),
        },
        _ => hint(field).unwrap_or(json!({})),
    }
}

fn add(doc: &Value, media: &mut Value) {
    if media.get("example").is_some() || media.get("schema").is_none() {
        return;
    }
    let value = example(doc, &media["schema"], "", DEPTH);
    if !value.is_null() {
        media["example"] = value;
    }
}

pub fn apply(doc: &mut Value) {
    let snapshot = doc.clone();
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for item in paths.values_mut().filter_map(Value::as_object_mut) {
        for op in item.values_mut() {
            if let Some(media) = op.pointer_mut("/requestBody/content/application~1json") {
                add(&snapshot, media);
            }
            if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
                for resp in responses.values_mut() {
                    if let Some(media) = resp.pointer_mut("/content/application~1json") {
                        add(&snapshot, media);
                    }
                }
            }
        }
    }
}
