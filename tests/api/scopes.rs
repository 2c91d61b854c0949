//! API key scopes: a key can do only what its scopes allow; bearer tokens can do everything.

use reqwest::Method;
use serde_json::{json, Value};
use wahub_tests::{json_of, spawn_app, TestApp, TestUser, WsClient};

async fn key_with(app: &TestApp, user: &TestUser, scopes: Value) -> (Value, String) {
    let created =
        json_of(app.post("/api/v1/api-keys", &user.token, json!({ "name": "k", "scopes": scopes })).await, 201).await;
    let key = created["key"].as_str().expect("key").to_owned();
    (created, key)
}

async fn call(app: &TestApp, key: &str, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = app.client.request(method, app.url(path)).header("X-Api-Key", key);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.expect("request")
}

async fn refused(resp: reqwest::Response, what: &str) {
    let body = json_of(resp, 403).await;
    assert_eq!(body["code"], "insufficient_scope", "{what}: {body}");
}

#[tokio::test]
async fn each_scope_allows_its_routes_and_nothing_else() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let session = app.connected_session(&user, "s", "6281200000001").await;
    let sid = session["id"].as_str().unwrap().to_owned();
    let (_, read) = key_with(&app, &user, json!(["read"])).await;
    let (_, send) = key_with(&app, &user, json!(["send"])).await;
    let (_, control) = key_with(&app, &user, json!(["control"])).await;
    let message = json!({ "session_id": sid, "to": "6281299999999", "text": "hi" });

    // read
    assert_eq!(call(&app, &read, Method::GET, "/api/v1/sessions", None).await.status(), 200);
    assert_eq!(call(&app, &read, Method::GET, "/api/v1/messages", None).await.status(), 200);
    assert_eq!(call(&app, &read, Method::GET, "/api/v1/events", None).await.status(), 200);
    refused(call(&app, &read, Method::POST, "/api/v1/messages", Some(message.clone())).await, "read sends").await;
    refused(call(&app, &read, Method::POST, &format!("/api/v1/sessions/{sid}/stop"), None).await, "read stops").await;
    refused(call(&app, &read, Method::DELETE, &format!("/api/v1/sessions/{sid}"), None).await, "read deletes").await;
    let new_session = json!({ "name": "n", "start": false });
    refused(call(&app, &read, Method::POST, "/api/v1/sessions", Some(new_session.clone())).await, "read creates").await;

    // send
    assert_eq!(call(&app, &send, Method::POST, "/api/v1/messages", Some(message.clone())).await.status(), 202);
    refused(call(&app, &send, Method::GET, "/api/v1/sessions", None).await, "send lists").await;
    refused(call(&app, &send, Method::POST, &format!("/api/v1/sessions/{sid}/logout"), None).await, "send logs out")
        .await;

    // control
    refused(call(&app, &control, Method::GET, &format!("/api/v1/sessions/{sid}"), None).await, "control reads").await;
    refused(call(&app, &control, Method::POST, "/api/v1/messages", Some(message.clone())).await, "control sends").await;
    let stopped =
        json_of(call(&app, &control, Method::POST, &format!("/api/v1/sessions/{sid}/stop"), None).await, 200).await;
    assert_eq!(stopped["status"], "stopped");
    assert_eq!(call(&app, &control, Method::POST, "/api/v1/sessions", Some(new_session)).await.status(), 201);
    let webhook = json!({ "url": "http://127.0.0.1:9/hook" });
    let resp = call(&app, &read, Method::POST, "/api/v1/webhooks", Some(webhook)).await;
    refused(resp, "read makes webhooks").await;

    // Refusals changed nothing: the session is stopped (by control), not deleted or logged out.
    let now = app.session(&user, &sid).await;
    assert_eq!(now["auth_paired"], true);

    // A bearer token does everything.
    assert_eq!(app.get("/api/v1/sessions", &user.token).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn keys_get_at_most_their_creators_rights() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let user = app.register("user@example.com").await;

    // Defaults: everything the creator may grant; shown in the list.
    let created = json_of(app.post("/api/v1/api-keys", &user.token, json!({ "name": "d" })).await, 201).await;
    assert_eq!(created["scopes"], json!(["read", "send", "control"]));
    let created = json_of(app.post("/api/v1/api-keys", &admin.token, json!({ "name": "d" })).await, 201).await;
    assert_eq!(created["scopes"], json!(["read", "send", "control", "admin"]));
    let (_, _) = key_with(&app, &user, json!(["send", "read"])).await;
    let list = json_of(app.get("/api/v1/api-keys", &user.token).await, 200).await;
    let scopes: Vec<&Value> = list.as_array().unwrap().iter().map(|k| &k["scopes"]).collect();
    assert_eq!(scopes, [&json!(["read", "send"]), &json!(["read", "send", "control"])]);

    // A user cannot grant admin; nonsense and empty lists are refused.
    let resp = app.post("/api/v1/api-keys", &user.token, json!({ "name": "x", "scopes": ["admin"] })).await;
    assert_eq!(json_of(resp, 403).await["code"], "scope_not_allowed");
    let resp = app.post("/api/v1/api-keys", &user.token, json!({ "name": "x", "scopes": [] })).await;
    assert_eq!(json_of(resp, 422).await["code"], "validation_failed");
    let resp = app.post("/api/v1/api-keys", &user.token, json!({ "name": "x", "scopes": ["root"] })).await;
    let status = resp.status().as_u16();
    assert!((400..500).contains(&status), "unknown scope: {status}");
    assert!(json_of(resp, status).await["code"].is_string(), "a problem body");

    // A key makes keys only with control, and never stronger than itself.
    let (_, read) = key_with(&app, &user, json!(["read"])).await;
    refused(call(&app, &read, Method::POST, "/api/v1/api-keys", Some(json!({ "name": "y" }))).await, "read mints")
        .await;
    let (_, control) = key_with(&app, &user, json!(["control"])).await;
    let resp =
        call(&app, &control, Method::POST, "/api/v1/api-keys", Some(json!({ "name": "y", "scopes": ["send"] }))).await;
    assert_eq!(json_of(resp, 403).await["code"], "scope_not_allowed");
    let minted =
        json_of(call(&app, &control, Method::POST, "/api/v1/api-keys", Some(json!({ "name": "y" }))).await, 201).await;
    assert_eq!(minted["scopes"], json!(["control"]), "a key's default is its own scopes");
    let count = json_of(app.get("/api/v1/api-keys", &user.token).await, 200).await.as_array().unwrap().len();
    assert_eq!(count, 5, "refused creations stored nothing");
    app.stop().await;
}

#[tokio::test]
async fn admin_routes_need_the_admin_scope_on_a_key() {
    let app = spawn_app().await;
    let admin = app.register("admin@example.com").await;
    let (_, plain) = key_with(&app, &admin, json!(["read", "control"])).await;
    let (_, full) = key_with(&app, &admin, json!(["admin"])).await;
    refused(call(&app, &plain, Method::GET, "/api/v1/admin/users", None).await, "no admin scope").await;
    assert_eq!(call(&app, &full, Method::GET, "/api/v1/admin/users", None).await.status(), 200);
    assert_eq!(call(&app, &full, Method::GET, "/api/v1/admin/audit", None).await.status(), 200);
    app.stop().await;
}

#[tokio::test]
async fn the_websocket_needs_the_read_scope() {
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let (_, send) = key_with(&app, &user, json!(["send"])).await;
    let (_, read) = key_with(&app, &user, json!(["read"])).await;
    assert_eq!(WsClient::refusal(&app.ws_url(&format!("api_key={send}"))).await, Some(403));
    let mut ws = WsClient::connect(&app.ws_url(&format!("api_key={read}"))).await.expect("read key ws");
    assert_eq!(ws.next_json().await["type"], "hello");
    app.stop().await;
}
