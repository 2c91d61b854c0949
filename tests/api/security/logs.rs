use serde_json::json;
use wahub_tests::{json_of, spawn_app, LogCapture, WsClient};

#[tokio::test]
async fn tokens_and_api_keys_in_ws_urls_never_reach_the_log() {
    let logs = LogCapture::global();
    let app = spawn_app().await;
    let user = app.register("a@example.com").await;
    let key = json_of(app.post("/api/v1/api-keys", &user.token, json!({ "name": "ws" })).await, 201).await;
    let key = key["key"].as_str().expect("key").to_owned();
    let mut ws = app.ws(&user, None).await;
    assert_eq!(ws.next_json().await["type"], "hello");
    let mut by_key = WsClient::connect(&app.ws_url(&format!("api_key={key}"))).await.expect("api key ws");
    assert_eq!(by_key.next_json().await["type"], "hello");
    // A refused upgrade is logged too, and must not carry the presented secret either.
    assert_eq!(WsClient::refusal(&app.ws_url("token=refused-secret-value&since=1")).await, Some(401));
    app.stop().await;
    let text = logs.text();
    assert!(text.contains("/api/v1/ws"), "requests are logged by path: {text}");
    for secret in [user.token.as_str(), key.as_str(), "refused-secret-value"] {
        assert!(!text.contains(secret), "a credential reached the log:\n{text}");
    }
}
