//! The published OpenAPI and AsyncAPI documents, and the conventions they promise.

use serde_json::{json, Value};
use wahub_tests::{json_of, spawn_app};

async fn spec(app: &wahub_tests::TestApp) -> Value {
    json_of(app.client.get(app.url("/api/openapi.json")).send().await.unwrap(), 200).await
}

fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), op.clone()));
        }
    }
    out
}

#[tokio::test]
async fn every_operation_has_an_id_one_tag_a_summary_a_description_and_its_problem_codes() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    assert_eq!(spec["servers"][0]["url"], "/");
    let ops = operations(&spec);
    assert!(ops.len() >= 45, "{} operations", ops.len());
    let mut ids = std::collections::HashSet::new();
    for (path, method, op) in &ops {
        let what = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{what}: no operationId"));
        assert!(ids.insert(id.to_owned()), "{what}: duplicate id {id}");
        assert_eq!(op["tags"].as_array().map(Vec::len), Some(1), "{what}: tags {}", op["tags"]);
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{what}: summary");
        assert!(op["description"].as_str().is_some_and(|s| !s.is_empty()), "{what}: description");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.get("default").is_none(), "{what}: errors only as default");
        for (status, resp) in responses {
            let media = &resp["content"];
            if status.starts_with('4') || status.starts_with('5') {
                let codes = &media["application/problem+json"]["schema"]["allOf"][1]["properties"]["code"]["enum"];
                assert!(codes.as_array().is_some_and(|c| !c.is_empty()), "{what} {status}: code enum");
                assert!(media["application/problem+json"]["example"].is_object(), "{what} {status}: example");
            } else if let Some(json) = media.get("application/json") {
                assert!(json.get("example").is_some(), "{what} {status}: response example");
            }
        }
        if let Some(body) = op["requestBody"]["content"].get("application/json") {
            assert!(body.get("example").is_some(), "{what}: request example");
        }
        if op.get("security").is_some() {
            assert!(responses.contains_key("401") && responses.contains_key("403"), "{what}: 401/403");
        }
        if path.contains('{') {
            assert!(responses.contains_key("404"), "{what}: 404");
        }
    }
    let create = &spec["paths"]["/api/v1/sessions"]["post"];
    let conflicts = &create["responses"]["409"]["content"]["application/problem+json"]["schema"]["allOf"][1];
    assert_eq!(
        conflicts["properties"]["code"]["enum"],
        json!(["instance_limit_reached", "name_taken", "phone_in_use"])
    );
    let login = &spec["paths"]["/api/v1/auth/login"]["post"]["responses"]["429"];
    assert!(login["headers"]["Retry-After"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn optional_fields_are_nullable_and_limits_enums_and_formats_are_declared() {
    let app = spawn_app().await;
    let spec = spec(&app).await;
    let schemas = &spec["components"]["schemas"];
    let nullable = [
        (
            "Session",
            &["phone", "push_name", "status_reason", "qr_expires_at", "last_connected_at", "last_activity_at"][..],
        ),
        ("UserOut", &["display_name"]),
        ("ApiKeyOut", &["expires_at", "last_used_at"]),
        ("WebhookDelivery", &["last_status_code", "last_error", "next_attempt_at", "delivered_at"]),
        ("Message", &["text", "error", "external_id", "media"]),
        ("CreateSessionRequest", &["phone", "start"]),
    ];
    for (schema, fields) in nullable {
        for f in fields {
            assert_eq!(schemas[schema]["properties"][f]["nullable"], true, "{schema}.{f}");
        }
    }
    let name = &schemas["CreateSessionRequest"]["properties"]["name"];
    assert_eq!((name["minLength"].as_u64(), name["maxLength"].as_u64()), (Some(1), Some(64)));
    assert_eq!(schemas["CreateApiKeyRequest"]["properties"]["name"]["maxLength"], 100);
    assert_eq!(schemas["CreateWebhookRequest"]["properties"]["secret"]["minLength"], 16);
    assert_eq!(schemas["CreateWebhookRequest"]["properties"]["secret"]["maxLength"], 256);
    assert_eq!(schemas["CreateWebhookRequest"]["properties"]["events"]["minItems"], 1);
    assert_eq!(schemas["CreateWebhookRequest"]["properties"]["url"]["format"], "uri");
    assert_eq!(schemas["RegisterRequest"]["properties"]["email"]["format"], "email");
    assert_eq!(schemas["Message"]["properties"]["direction"]["enum"], json!(["in", "out"]));
    assert!(schemas["WebhookDelivery"]["properties"]["status"]["enum"].as_array().unwrap().contains(&json!("pending")));
    assert!(schemas["UserOut"]["properties"]["role"]["enum"].as_array().unwrap().contains(&json!("admin")));
    let reason = &schemas["Session"]["properties"]["status_reason"];
    assert_eq!(reason["allOf"][0]["$ref"], "#/components/schemas/StatusReason");
    assert!(schemas["StatusReason"]["enum"].as_array().unwrap().contains(&json!("qr_timeout")));
    let raw = spec.to_string();
    assert!(!raw.contains("\"uint32\"") && !raw.contains("\"uint64\""), "standard integer formats only");

    let qr = &spec["paths"]["/api/v1/sessions/{id}/qr"]["get"]["responses"]["200"]["content"];
    for media in ["application/json", "image/svg+xml", "image/png"] {
        assert!(qr.get(media).is_some(), "QR as {media}");
    }
    let start = &spec["paths"]["/api/v1/sessions/{id}/start"]["post"]["requestBody"];
    assert_eq!(start["required"], false);
    assert!(schemas["StartRequest"]["properties"]["force_relink"].is_object());
    assert!(schemas["DropRequest"]["properties"]["down_for_ms"].is_object());
    app.stop().await;
}

#[tokio::test]
async fn nulls_the_spec_declares_are_what_the_server_sends_and_accepts() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    // Explicit null for an optional field means "absent".
    let r = app.post("/api/v1/sessions", &user.token, json!({"name": "n", "phone": null, "start": null})).await;
    let s = json_of(r, 201).await;
    assert!(s["phone"].is_null() && s["push_name"].is_null() && s["last_connected_at"].is_null(), "{s}");
    let id = s["id"].as_str().unwrap();
    let r = app.post(&format!("/api/v1/sessions/{id}/start"), &user.token, json!({"force_relink": null})).await;
    json_of(r, 200).await;
    let r =
        app.post("/api/v1/api-keys", &user.token, json!({"name": "k", "expires_in_days": null, "scopes": null})).await;
    let key = json_of(r, 201).await;
    assert!(key["expires_at"].is_null() && key["last_used_at"].is_null(), "{key}");
    app.stop().await;
}

#[tokio::test]
async fn a_wrong_method_answers_405_with_allow() {
    let app = spawn_app().await;
    let r = app.client.put(app.url("/api/v1/sessions")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST, HEAD");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let r = app.client.put(app.url("/api/v1/sessions/0b8f4d2e-6c1a-4f3b-9a7e-2d5c8e1f0a94")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "DELETE, GET, PATCH, HEAD");
    app.stop().await;
}

#[tokio::test]
async fn a_valid_credential_beside_an_invalid_one_is_refused() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let key = json_of(app.post("/api/v1/api-keys", &user.token, json!({"name": "k"})).await, 201).await;
    let key = key["key"].as_str().unwrap().to_owned();
    let both = |bearer: &str, api_key: &str| {
        app.client.get(app.url("/api/v1/sessions")).bearer_auth(bearer).header("X-Api-Key", api_key).send()
    };
    for (bearer, api_key) in
        [(user.token.as_str(), "wh_bogus"), ("bogus", key.as_str()), (user.token.as_str(), key.as_str())]
    {
        let r = both(bearer, api_key).await.unwrap();
        assert_eq!(json_of(r, 401).await["code"], "ambiguous_credentials");
    }
    // Each alone still works.
    json_of(app.get("/api/v1/sessions", &user.token).await, 200).await;
    let r = app.client.get(app.url("/api/v1/sessions")).header("X-Api-Key", &key).send().await.unwrap();
    json_of(r, 200).await;
    app.stop().await;
}

#[tokio::test]
async fn asyncapi_describes_the_websocket_and_swagger_ui_has_no_validator() {
    let app = spawn_app().await;
    let doc = json_of(app.client.get(app.url("/api/asyncapi.json")).send().await.unwrap(), 200).await;
    assert_eq!(doc["asyncapi"], "2.6.0");
    let messages = doc["components"]["messages"].as_object().unwrap();
    for name in ["hello", "ping", "pong", "session.status", "session.qr", "message.received", "message.updated"] {
        assert!(messages.contains_key(name), "{name}");
    }
    let description = doc["info"]["description"].as_str().unwrap();
    for fact in ["4008", "4401", "since", "resumed"] {
        assert!(description.contains(fact), "{fact}");
    }
    // The payloads are the REST schemas.
    let spec = spec(&app).await;
    assert_eq!(doc["components"]["schemas"]["Session"], spec["components"]["schemas"]["Session"]);
    let html = app.client.get(app.url("/api/docs")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("validatorUrl: null"));
    assert!(html.contains("\"operationId\""), "Swagger UI shows the completed document");
    app.stop().await;
}

fn is_one_time_format(v: &Value) -> bool {
    let s = v.as_str().unwrap_or_default();
    let b = s.as_bytes();
    s.len() == 27
        && b[10] == b'T'
        && b[19] == b'.'
        && s.ends_with('Z')
        && b[20..26].iter().all(u8::is_ascii_digit)
        && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

#[tokio::test]
async fn rest_events_and_webhooks_share_one_time_format() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let hook = app.create_webhook(&user, "http://127.0.0.1:9/hook", json!(["session.created"])).await;
    let s = app.create_session(&user, "t", false).await;
    assert!(is_one_time_format(&s["created_at"]), "REST: {}", s["created_at"]);
    let me = json_of(app.get("/api/v1/me", &user.token).await, 200).await;
    assert!(is_one_time_format(&me["created_at"]), "REST: {}", me["created_at"]);
    let events = json_of(app.get("/api/v1/events", &user.token).await, 200).await;
    let created = events.as_array().unwrap().iter().find(|e| e["event"] == "session.created").unwrap().clone();
    assert!(is_one_time_format(&created["at"]), "event: {}", created["at"]);
    assert!(is_one_time_format(&created["data"]["created_at"]), "event data: {}", created["data"]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let payload = loop {
        let log = json_of(app.get(&format!("/api/v1/webhooks/{hook}/deliveries"), &user.token).await, 200).await;
        if let Some(d) = log.as_array().and_then(|l| l.first()) {
            break d["payload"].clone();
        }
        assert!(std::time::Instant::now() < deadline, "no delivery logged");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(is_one_time_format(&payload["at"]), "webhook: {payload}");
    assert!(is_one_time_format(&payload["data"]["created_at"]), "webhook data: {payload}");
    app.stop().await;
}
