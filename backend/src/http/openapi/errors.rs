//! Every problem `code` the server can answer, with its status, and which operation
//! can answer which. The OpenAPI document lists them per operation and status as an
//! enum; tests/api/openapi.rs checks that every code the source produces is here.

use serde_json::{json, Map, Value};

/// `(code, HTTP status, meaning)`.
pub const CODES: &[(&str, u16, &str)] = &[
    ("validation_failed", 422, "The body, a parameter or a field is malformed, of the wrong type or out of range."),
    ("invalid_text", 422, "A string contains NUL (U+0000)."),
    ("invalid_email", 422, "The email address is not plausible."),
    ("weak_password", 422, "The password is not 8 to 256 characters long."),
    ("invalid_phone", 422, "Not a phone number (8 to 15 digits) or WhatsApp JID."),
    ("target_not_allowed", 422, "The URL points at a loopback, private, link-local or multicast address."),
    ("unauthorized", 401, "No valid access token or API key was presented."),
    ("ambiguous_credentials", 401, "Both `Authorization` and `X-Api-Key` were sent; send one."),
    ("invalid_credentials", 401, "Wrong email or password."),
    ("invalid_refresh_token", 401, "The refresh token is invalid, expired or already used."),
    ("insufficient_scope", 403, "The API key lacks the scope this operation needs."),
    ("account_disabled", 403, "The account is disabled."),
    ("registration_closed", 403, "Registration is closed on this server."),
    ("scope_not_allowed", 403, "A requested API key scope is beyond the caller's own rights."),
    ("origin_not_allowed", 403, "The WebSocket upgrade came from a foreign `Origin`."),
    ("forbidden", 403, "Refused."),
    ("not_found", 404, "No such resource (or not the caller's)."),
    ("no_qr", 404, "No QR code is on offer for this session."),
    ("method_not_allowed", 405, "The path exists, the method does not; see `Allow`."),
    ("email_taken", 409, "An account with this email exists."),
    ("name_taken", 409, "The caller has a session with this name."),
    ("phone_in_use", 409, "An active session uses this phone number."),
    ("instance_limit_reached", 409, "The caller's session limit is reached."),
    ("webhook_limit_reached", 409, "The caller's webhook limit is reached."),
    ("last_admin", 409, "The change would leave the server without an active admin."),
    ("already_paired", 409, "The session is linked already; log out first."),
    ("session_not_started", 409, "The session could not be started."),
    ("pair_code_failed", 409, "The link closed before a pairing code arrived."),
    ("no_connected_session", 409, "No connected (or reconnecting) session can send the message."),
    ("session_not_connected", 409, "The simulated session is not connected."),
    ("no_qr", 409, "The simulated phone has no QR code to scan (simulator)."),
    ("payload_too_large", 413, "The request body exceeds the server's limit."),
    ("unsupported_media_type", 415, "The body is not `application/json`."),
    ("rate_limited", 429, "Too many attempts from this address; see `Retry-After`."),
    ("daily_limit_reached", 429, "The session's daily message limit is reached; see `Retry-After`."),
    ("internal", 500, "Something went wrong on the server (logged there)."),
    ("unavailable", 503, "The server cannot answer now; try again."),
    ("session_busy", 503, "The session is busy; try again."),
    ("storage_unavailable", 503, "The session's change could not be saved; try again."),
    ("session_owner_unavailable", 503, "Another node runs the session and could not be reached; try again."),
];

/// Codes beyond the ones every operation of its kind can answer (see `codes_for`);
/// `code:status` where a code answers with more than one status.
const BY_OPERATION: &[(&str, &[&str])] = &[
    ("register", &["registration_closed", "email_taken", "invalid_email", "weak_password", "rate_limited"]),
    ("login", &["invalid_credentials", "account_disabled", "rate_limited"]),
    ("refreshTokens", &["invalid_refresh_token", "rate_limited"]),
    ("logout", &["invalid_refresh_token"]),
    ("createApiKey", &["scope_not_allowed"]),
    ("deleteApiKey", &[]),
    ("createSession", &["name_taken", "phone_in_use", "instance_limit_reached", "invalid_phone"]),
    ("renameSession", &["name_taken"]),
    ("startSession", &["phone_in_use"]),
    ("getSessionQr", &["no_qr:404"]),
    (
        "requestPairCode",
        &["invalid_phone", "phone_in_use", "already_paired", "session_not_started", "pair_code_failed"],
    ),
    ("listMessages", &["not_found"]),
    (
        "sendMessage",
        &["not_found", "invalid_phone", "no_connected_session", "target_not_allowed", "daily_limit_reached"],
    ),
    ("createWebhook", &["target_not_allowed", "webhook_limit_reached"]),
    ("updateWebhook", &["target_not_allowed"]),
    ("adminUpdateUser", &["last_admin"]),
    ("simScan", &["invalid_phone", "no_qr:409", "session_owner_unavailable"]),
    ("simIncoming", &["invalid_phone", "session_not_connected", "session_owner_unavailable"]),
    ("simDelivered", &["invalid_phone", "session_not_connected", "session_owner_unavailable"]),
    ("simRead", &["invalid_phone", "session_not_connected", "session_owner_unavailable"]),
    ("simFailScan", &["no_qr:409", "session_owner_unavailable"]),
    ("simDrop", &["session_not_connected", "session_owner_unavailable"]),
    ("simUnlink", &["session_not_connected", "session_owner_unavailable"]),
    ("simSilence", &["session_not_connected", "session_owner_unavailable"]),
];

/// Operations that go through a session's task, which may be busy or fail to save.
const SESSION_TASK_OPS: &[&str] = &[
    "createSession",
    "deleteSession",
    "startSession",
    "stopSession",
    "logoutSession",
    "requestPairCode",
    "adminStopSession",
    "adminLogoutSession",
];

#[cfg(test)]
fn is_listed(code: &str) -> bool {
    CODES.iter().any(|(c, _, _)| *c == code)
}

fn answers(code: &str, status: u16) -> bool {
    CODES.iter().any(|(c, s, _)| *c == code && *s == status)
}

fn meaning(code: &str, status: u16) -> &'static str {
    CODES.iter().find(|(c, s, _)| *c == code && *s == status).map_or("", |(_, _, d)| d)
}

/// The codes `op` can answer, from what it has: credentials, path or query parameters,
/// a body, and its entry in `BY_OPERATION`.
fn codes_for(op_id: &str, op: &Value) -> Vec<&'static str> {
    let mut codes = vec!["internal"];
    if op.get("security").is_some() {
        codes.extend(["unauthorized", "ambiguous_credentials", "insufficient_scope"]);
    }
    let params = op["parameters"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if params.iter().any(|p| p["in"] == "path") || op_id.starts_with("admin") || op_id.starts_with("sim") {
        codes.push("not_found");
    }
    if !params.is_empty() {
        codes.push("validation_failed");
    }
    if op.get("requestBody").is_some() {
        codes.extend(["validation_failed", "invalid_text", "payload_too_large", "unsupported_media_type"]);
    }
    if SESSION_TASK_OPS.contains(&op_id) {
        codes.extend(["session_busy", "storage_unavailable", "session_owner_unavailable"]);
    }
    if let Some((_, extra)) = BY_OPERATION.iter().find(|(id, _)| *id == op_id) {
        codes.extend(extra.iter().copied());
    }
    codes.sort_unstable();
    codes.dedup();
    codes
}

fn problem_response(status: u16, codes: &[&str]) -> Value {
    let description = codes.iter().map(|c| format!("`{c}`: {}", meaning(c, status))).collect::<Vec<_>>().join(" ");
    let schema = json!({
        "allOf": [
            { "$ref": "#/components/schemas/Problem" },
            { "type": "object", "properties": { "code": { "type": "string", "enum": codes } } }
        ]
    });
    let example = json!({
        "type": format!("https://wahub.dev/problems/{}", codes[0].replace('_', "-")),
        "title": poem::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error"),
        "status": status,
        "detail": meaning(codes[0], status),
        "code": codes[0],
    });
    let mut resp = json!({
        "description": description,
        "content": { "application/problem+json": { "schema": schema, "example": example } }
    });
    if status == 429 || status == 503 {
        resp["headers"] = json!({ "Retry-After": {
            "description": "Seconds to wait before trying again.",
            "required": status == 429,
            "schema": { "type": "integer", "format": "int64", "minimum": 0 }
        }});
    }
    resp
}

/// Replaces each operation's `default` problem response with one response per status.
pub fn apply(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else { return };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else { continue };
        for op in item.values_mut() {
            let op_id = op["operationId"].as_str().unwrap_or_default().to_owned();
            let codes = codes_for(&op_id, op);
            let Some(responses) = op["responses"].as_object_mut() else { continue };
            responses.remove("default");
            let mut by_status: Map<String, Value> = Map::new();
            for status in [401, 403, 404, 409, 413, 415, 422, 429, 500, 503] {
                let here: Vec<&str> = codes
                    .iter()
                    .filter_map(|c| match c.split_once(':') {
                        Some((code, only)) => (only == status.to_string()).then_some(code),
                        None => Some(*c),
                    })
                    .filter(|c| answers(c, status))
                    .collect();
                if !here.is_empty() {
                    by_status.insert(status.to_string(), problem_response(status, &here));
                }
            }
            responses.extend(by_status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first string literal after each `needle(` in `src`.
    fn codes_after(src: &str, needle: &str) -> Vec<String> {
        let mut out = Vec::new();
        for (at, _) in src.match_indices(needle) {
            let rest = &src[at + needle.len()..];
            let Some(open) = rest.find('"') else { continue };
            let Some(len) = rest[open + 1..].find('"') else { continue };
            let lit = &rest[open + 1..open + 1 + len];
            if !lit.is_empty() && lit.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                out.push(lit.to_owned());
            }
        }
        out
    }

    fn sources(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push((path.display().to_string(), std::fs::read_to_string(&path).unwrap()));
            }
        }
    }

    #[test]
    fn every_code_the_source_produces_is_in_the_table() {
        let mut files = Vec::new();
        sources(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut files);
        let mut found = 0;
        for (path, src) in files.iter().filter(|(p, _)| !p.ends_with("openapi/errors.rs")) {
            let ctors = ["bad_request(", "unprocessable(", "unauthorized(", "forbidden(", "conflict(", "too_many("];
            let mut codes: Vec<String> =
                ctors.iter().flat_map(|c| codes_after(src, &format!("Problem::{c}"))).collect();
            codes.extend(codes_after(src, "with_code("));
            codes.extend(codes_after(src, "Problem::new("));
            if path.ends_with("error.rs") {
                codes.extend(codes_after(src, "=> "));
                codes.extend(codes_after(src, "Self::new(StatusCode::"));
            }
            for code in codes {
                found += 1;
                assert!(is_listed(&code), "{path} produces `{code}`, missing from CODES");
            }
        }
        assert!(found > 30, "the scan found only {found} codes");
    }

    #[test]
    fn every_listed_code_is_in_the_table() {
        for (op, codes) in BY_OPERATION {
            for c in *codes {
                let c = c.split_once(':').map_or(*c, |(code, _)| code);
                assert!(is_listed(c), "{op}: {c}");
            }
        }
        let mut seen = std::collections::HashSet::new();
        for (c, s, _) in CODES {
            assert!(seen.insert((c, s)), "{c} {s} twice");
        }
    }
}
