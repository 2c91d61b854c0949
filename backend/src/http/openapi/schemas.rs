//! Schema facts the derive macros cannot express: optional fields are nullable (the
//! server sends `null`, and accepts `null` as absent), limits the server enforces,
//! enums that are strings in Rust, URL formats, standard integer formats, and the
//! request and response bodies of the operations that parse their own.

use serde_json::{json, Value};

use crate::domain::status::reason;
use crate::webhooks::EVENTS;

const MESSAGE_STATUSES: &[&str] = &["queued", "sent", "delivered", "read", "failed", "received"];
const DELIVERY_STATUSES: &[&str] = &["pending", "delivered", "failed"];
const ROLES: &[&str] = &["user", "admin"];
const ENGINES: &[&str] = &["sim", "whatsapp"];

/// What `Phone::parse` accepts: 8 to 15 digits with `+`, spaces, dashes, dots or
/// brackets, or a WhatsApp JID, with whitespace around.
pub const PHONE_PATTERN: &str = r"^\s*(\+?[ ().-]*([0-9][ ().-]*){8,15}|\+?[ ()-]*([0-9][ ()-]*){8,15}([:.][^@\u0000]*)?@(s\.whatsapp\.net|c\.us|lid))\s*$";
/// `SessionName::parse`: 1 to 64 characters, not only whitespace, no control characters.
const NAME_PATTERN: &str =
    r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$";

/// `accounts::create_user`'s display names: no control characters.
const NO_CONTROL_PATTERN: &str = r"^[^\u0000-\u001f\u007f-\u009f]*$";

/// Every pattern `webhooks::validate::events` accepts.
pub fn event_patterns() -> Vec<String> {
    let mut out: Vec<String> = vec!["*".into()];
    for e in EVENTS {
        let prefix = format!("{}.*", e.split('.').next().unwrap_or(e));
        if !out.contains(&prefix) {
            out.push(prefix);
        }
    }
    out.extend(EVENTS.iter().map(|e| (*e).to_owned()));
    out
}

fn prop<'a>(doc: &'a mut Value, schema: &str, field: &str) -> Option<&'a mut serde_json::Map<String, Value>> {
    doc["components"]["schemas"][schema]["properties"][field].as_object_mut()
}

fn set(doc: &mut Value, schema: &str, field: &str, facts: Value) {
    if let (Some(p), Some(facts)) = (prop(doc, schema, field), facts.as_object()) {
        for (k, v) in facts {
            p.insert(k.clone(), v.clone());
        }
    }
}

fn set_items(doc: &mut Value, schema: &str, field: &str, facts: Value) {
    if let (Some(p), Some(facts)) = (prop(doc, schema, field), facts.as_object()) {
        if let Some(items) = p.get_mut("items").and_then(Value::as_object_mut) {
            for (k, v) in facts {
                items.insert(k.clone(), v.clone());
            }
        }
    }
}

pub fn apply(doc: &mut Value) {
    limits(doc);
    enums(doc);
    formats(doc);
    integer_formats(doc);
    nullable(doc);
    qr_media_types(doc);
    self_parsed_bodies(doc);
}

fn limits(doc: &mut Value) {
    for schema in ["CreateSessionRequest", "RenameSessionRequest"] {
        set(doc, schema, "name", json!({ "minLength": 1, "maxLength": 64, "pattern": NAME_PATTERN }));
    }
    set(doc, "CreateSessionRequest", "phone", json!({ "pattern": format!(r"^\s*$|{PHONE_PATTERN}") }));
    set(
        doc,
        "CreateApiKeyRequest",
        "name",
        json!({ "minLength": 1, "maxLength": 100, "pattern": r"^[^\u0000]*\S[^\u0000]*$" }),
    );
    set(doc, "CreateApiKeyRequest", "scopes", json!({ "minItems": 1 }));
    set(doc, "RegisterRequest", "email", json!({ "format": "email", "maxLength": 254 }));
    set(doc, "RegisterRequest", "password", json!({ "minLength": 8, "maxLength": 256 }));
    set(doc, "RegisterRequest", "display_name", json!({ "maxLength": 100, "pattern": NO_CONTROL_PATTERN }));
    for schema in ["CreateWebhookRequest", "UpdateWebhookRequest"] {
        set(doc, schema, "secret", json!({ "minLength": 16, "maxLength": 256 }));
        set(doc, schema, "events", json!({ "minItems": 1 }));
        set_items(doc, schema, "events", json!({ "enum": event_patterns() }));
        set(doc, schema, "url", json!({ "maxLength": 2048 }));
    }
    set(doc, "IncomingRequest", "external_id", json!({ "pattern": "^[A-Za-z0-9_-]{1,128}$" }));
    for (schema, field) in [
        ("ScanRequest", "phone"),
        ("IncomingRequest", "from"),
        ("ReceiptRequest", "from"),
        ("PairCodeRequest", "phone"),
    ] {
        set(doc, schema, field, json!({ "pattern": PHONE_PATTERN }));
    }
    set(doc, "SendRequest", "to", json!({ "pattern": PHONE_PATTERN }));
    set(doc, "SendRequest", "text", json!({ "maxLength": 65_536 }));
    set(doc, "IncomingRequest", "text", json!({ "minLength": 1, "maxLength": 65_536 }));
    one_source_of_media(doc);
    set(doc, "MediaIn", "mimetype", json!({ "pattern": r"^[^\u0000]*/[^\u0000]*$", "example": "image/png" }));
    set(doc, "MediaIn", "data_base64", json!({ "format": "byte" }));
    for schema in ["Session", "AdminSession", "PhoneCheckOut"] {
        set(doc, schema, "phone", json!({ "example": "15551234567" }));
    }
}

/// What `validate_media` and `send` refuse, as schema: media has exactly one of
/// `data_base64` and `url`; a message has non-empty text or media.
fn one_source_of_media(doc: &mut Value) {
    let given = |field: &str| json!({ "required": [field], "properties": { field: { "type": "string" } } });
    doc["components"]["schemas"]["MediaIn"]["oneOf"] = json!([given("data_base64"), given("url")]);
    doc["components"]["schemas"]["SendRequest"]["anyOf"] = json!([
        { "required": ["text"], "properties": { "text": { "type": "string", "minLength": 1 } } },
        { "required": ["media"], "properties": { "media": { "type": "object" } } }
    ]);
}

fn enums(doc: &mut Value) {
    let reasons: Vec<&str> = reason::ALL.to_vec();
    for schema in ["Session", "AdminSession"] {
        set(doc, schema, "status_reason", json!({ "enum": reasons }));
        set(doc, schema, "engine", json!({ "enum": ENGINES }));
    }
    set(doc, "ServerInfo", "engine", json!({ "enum": ENGINES }));
    set(doc, "Message", "direction", json!({ "enum": ["in", "out"] }));
    set(doc, "Message", "status", json!({ "enum": MESSAGE_STATUSES }));
    set(doc, "SendAccepted", "status", json!({ "enum": ["queued"] }));
    set(doc, "WebhookDelivery", "status", json!({ "enum": DELIVERY_STATUSES }));
    set(doc, "WebhookDelivery", "event", json!({ "enum": EVENTS }));
    set(doc, "Event", "event", json!({ "enum": EVENTS }));
    set(doc, "Event", "type", json!({ "enum": ["event"] }));
    for schema in ["Webhook", "CreatedWebhook"] {
        set_items(doc, schema, "events", json!({ "enum": event_patterns() }));
    }
    for schema in ["UserOut", "AdminUser"] {
        set(doc, schema, "role", json!({ "enum": ROLES }));
    }
    set(doc, "TokenResponse", "token_type", json!({ "enum": ["Bearer"] }));
}

fn formats(doc: &mut Value) {
    for (schema, field) in [
        ("CreateWebhookRequest", "url"),
        ("UpdateWebhookRequest", "url"),
        ("Webhook", "url"),
        ("CreatedWebhook", "url"),
        ("MediaIn", "url"),
        ("MediaOut", "url"),
    ] {
        set(doc, schema, field, json!({ "format": "uri" }));
    }
}

/// poem-openapi writes `uint32`/`uint64`; generators know `int32`/`int64`.
fn integer_formats(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some("integer") {
                let unsigned = match map.get("format").and_then(Value::as_str) {
                    Some("uint32") => Some(u64::from(u32::MAX)),
                    Some("uint64") => Some(i64::MAX as u64),
                    _ => None,
                };
                if let Some(max) = unsigned {
                    map.insert("format".into(), json!("int64"));
                    map.entry("minimum").or_insert(json!(0));
                    let capped = map.get("maximum").and_then(Value::as_f64).map_or(max, |m| (m as u64).min(max));
                    map.insert("maximum".into(), json!(capped));
                    if let Some(min) = map.get("minimum").and_then(Value::as_f64) {
                        map.insert("minimum".into(), json!(min as u64));
                    }
                }
            }
            map.values_mut().for_each(integer_formats);
        }
        Value::Array(items) => items.iter_mut().for_each(integer_formats),
        _ => {}
    }
}

fn pascal(field: &str) -> String {
    field.split('_').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

/// Optional properties are nullable: responses send `null` for them, requests may.
/// A nullable enum becomes a named schema behind `allOf` (generators read that as
/// "the enum or null"; `null` inside `enum` confuses them).
fn nullable(doc: &mut Value) {
    let mut named_enums: Vec<(String, Value)> = Vec::new();
    let Some(schemas) = doc["components"]["schemas"].as_object_mut() else { return };
    for schema in schemas.values_mut() {
        let required: Vec<String> = schema["required"]
            .as_array()
            .map(|r| r.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) else { continue };
        for (name, p) in props.iter_mut() {
            if required.contains(name)
                || p.as_object().is_some_and(|o| o.is_empty() || o.contains_key("description") && o.len() == 1)
            {
                continue;
            }
            if let Some(values) = p.get("enum").cloned() {
                let component = pascal(name);
                if !named_enums.iter().any(|(n, _)| *n == component) {
                    named_enums.push((component.clone(), json!({ "type": "string", "enum": values })));
                }
                *p = json!({ "allOf": [{ "$ref": format!("#/components/schemas/{component}") }], "nullable": true });
            } else if let Some(reference) = p.get("$ref").cloned() {
                *p = json!({ "allOf": [{ "$ref": reference }], "nullable": true });
            } else if let Some(o) = p.as_object_mut() {
                o.insert("nullable".into(), json!(true));
            }
        }
    }
    for (name, schema) in named_enums {
        schemas.insert(name, schema);
    }
}

fn qr_media_types(doc: &mut Value) {
    let Some(ok) = doc["paths"]["/api/v1/sessions/{id}/qr"]["get"]["responses"]["200"].as_object_mut() else { return };
    ok.insert("description".into(), json!("The QR code: JSON by default, SVG or PNG as asked by `format`."));
    ok.insert(
        "content".into(),
        json!({
            "application/json": { "schema": { "$ref": "#/components/schemas/Qr" } },
            "image/svg+xml": { "schema": { "type": "string" } },
            "image/png": { "schema": { "type": "string", "format": "binary" } }
        }),
    );
}

/// `/start` and `/sim/drop` read an optional JSON body themselves.
fn self_parsed_bodies(doc: &mut Value) {
    let bodies = [
        (
            "/api/v1/sessions/{id}/start",
            "StartRequest",
            json!({ "force_relink": { "type": "boolean", "default": false, "nullable": true,
                "description": "Wipe stored credentials and pair afresh." } }),
        ),
        (
            "/api/v1/sessions/{id}/sim/drop",
            "DropRequest",
            json!({ "down_for_ms": { "type": "integer", "format": "int64", "minimum": 0, "default": 0, "nullable": true,
                "description": "Keep the network down this long (at most a day), so reconnects fail meanwhile." } }),
        ),
    ];
    for (path, name, props) in bodies {
        doc["components"]["schemas"][name] = json!({
            "type": "object", "title": name, "properties": props, "additionalProperties": false
        });
        if let Some(op) = doc["paths"][path]["post"].as_object_mut() {
            op.insert(
                "requestBody".into(),
                json!({
                    "description": "Optional; an empty body means the defaults.",
                    "required": false,
                    "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } }
                }),
            );
        }
    }
}
