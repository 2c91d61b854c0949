//! The AsyncAPI 2.6 document of `/api/v1/ws`, with the payload schemas taken from the
//! completed OpenAPI document so both describe the same types.

use serde_json::{json, Value};

use crate::http::ws::{CLOSE_TOKEN_EXPIRED, CLOSE_TOO_SLOW};
use crate::webhooks::EVENTS;

/// Event name → its `data` schema (CONTRACT.md §5).
fn data_schema(event: &str) -> Value {
    let r = |name: &str| json!({ "$ref": format!("#/components/schemas/{name}") });
    match event {
        "session.created" | "session.updated" => r("Session"),
        "session.qr" => r("Qr"),
        "session.pair_code" => r("PairCodeOut"),
        "message.received" => r("Message"),
        "session.deleted" => json!({ "type": "object", "required": ["id"],
            "properties": { "id": { "type": "string", "format": "uuid" } } }),
        "session.status" => json!({ "type": "object",
            "required": ["status", "previous", "auth_paired", "socket_open"],
            "properties": {
                "status": r("Status"), "previous": r("Status"),
                "reason": { "type": "string", "nullable": true },
                "auth_paired": { "type": "boolean" }, "socket_open": { "type": "boolean" },
                "phone": { "type": "string", "nullable": true },
                "push_name": { "type": "string", "nullable": true } } }),
        "session.primary" => json!({ "type": "object", "required": ["session_id"],
            "properties": {
                "session_id": { "type": "string", "format": "uuid" },
                "previous_session_id": { "type": "string", "format": "uuid", "nullable": true } } }),
        "message.updated" => json!({ "type": "object", "required": ["id", "status"],
            "properties": {
                "id": { "type": "string", "format": "uuid" },
                "status": { "type": "string" },
                "error": { "type": "string", "nullable": true } } }),
        _ => json!({}),
    }
}

fn event_message(event: &str) -> Value {
    json!({
        "name": event,
        "title": event,
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "required": ["type", "seq", "event", "at", "data"],
            "properties": {
                "type": { "type": "string", "const": "event" },
                "seq": { "type": "integer", "format": "int64", "description": "Per-user, only grows." },
                "event": { "type": "string", "const": event },
                "session_id": { "type": "string", "format": "uuid", "nullable": true },
                "at": { "type": "string", "format": "date-time" },
                "data": data_schema(event)
            }
        }
    })
}

pub fn document(openapi: &Value) -> Value {
    let mut schemas = serde_json::Map::new();
    for name in ["Session", "Status", "Qr", "PairCodeOut", "Message", "MediaOut"] {
        schemas.insert(name.into(), openapi["components"]["schemas"][name].clone());
    }
    let mut messages = serde_json::Map::new();
    messages.insert(
        "hello".into(),
        json!({
            "name": "hello",
            "summary": "The first frame: where the log stands and a snapshot of the sessions.",
            "contentType": "application/json",
            "payload": { "type": "object", "required": ["type", "seq", "resumed", "sessions", "qr"],
                "properties": {
                    "type": { "type": "string", "const": "hello" },
                    "seq": { "type": "integer", "format": "int64", "description": "The user's last sequence number." },
                    "resumed": { "type": "boolean", "description":
                        "True when `since` was given and every later event follows (replayed) before live ones; false: the snapshot stands in for them." },
                    "sessions": { "type": "array", "items": { "$ref": "#/components/schemas/Session" } },
                    "qr": { "type": "object", "description": "Session id → the QR on offer.",
                        "additionalProperties": { "$ref": "#/components/schemas/Qr" } } } }
        }),
    );
    messages.insert(
        "pong".into(),
        json!({ "name": "pong", "contentType": "application/json",
        "payload": { "type": "object", "required": ["type"], "properties": { "type": { "const": "pong" } } } }),
    );
    messages.insert(
        "ping".into(),
        json!({ "name": "ping", "contentType": "application/json",
        "payload": { "type": "object", "required": ["type"], "properties": { "type": { "const": "ping" } } } }),
    );
    let mut one_of =
        vec![json!({ "$ref": "#/components/messages/hello" }), json!({ "$ref": "#/components/messages/pong" })];
    for e in EVENTS {
        messages.insert((*e).to_owned(), event_message(e));
        one_of.push(json!({ "$ref": format!("#/components/messages/{e}") }));
    }
    json!({
        "asyncapi": "2.6.0",
        "info": {
            "title": "wahub event stream",
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "Every QR, status change and message of the caller's sessions, live. Connect to \
                 `/api/v1/ws?token=<access token>` (or `api_key=<key>` with the `read` scope); a missing or \
                 invalid credential is refused with HTTP 401 before the upgrade, a foreign browser `Origin` \
                 with 403. Resume with `since=<last seq seen>`: the hello says `resumed: true` and the missed \
                 events follow in order. Close codes: {CLOSE_TOO_SLOW} the client fell behind (reconnect with \
                 `since`, nothing is lost); {CLOSE_TOKEN_EXPIRED} the token expired or the credential was \
                 revoked (log in again); 1001 the server is shutting down; 1011 internal error. The server \
                 pings every 20 s; the same events are readable over REST at `GET /api/v1/events`."
            )
        },
        "servers": { "this": { "url": "/api/v1/ws", "protocol": "ws",
            "description": "This server (use wss behind TLS)." } },
        "channels": {
            "/api/v1/ws": {
                "bindings": { "ws": { "method": "GET", "query": { "type": "object", "properties": {
                    "token": { "type": "string", "description": "An access token." },
                    "api_key": { "type": "string", "description": "An API key with the `read` scope." },
                    "since": { "type": "integer", "minimum": 0, "description": "Resume after this sequence number." }
                } } } },
                "subscribe": { "operationId": "receiveFrames", "summary": "Frames the server sends.",
                    "message": { "oneOf": one_of } },
                "publish": { "operationId": "sendFrames", "summary": "Frames a client may send.",
                    "message": { "$ref": "#/components/messages/ping" } }
            }
        },
        "components": { "schemas": schemas, "messages": messages }
    })
}
