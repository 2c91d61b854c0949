//! SSRF: webhook and media URLs must not point wahub at its own network. With
//! `allow_private_targets` false (the default) internal targets are refused at
//! registration (422 `target_not_allowed`) and again when connecting.

use serde_json::{json, Value};
use wahub_tests::{eventually, json_of, spawn_app_with, Receiver};

const INTERNAL: [&str; 9] = [
    "http://localhost:{port}/hook",
    "http://127.0.0.1:{port}/hook",
    "http://127.1:{port}/hook",
    "http://2130706433:{port}/hook",
    "http://0x7f000001:{port}/hook",
    "http://[::1]:{port}/hook",
    "http://[::ffff:127.0.0.1]:{port}/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
];

#[tokio::test]
async fn webhooks_and_media_urls_to_internal_addresses_are_refused() {
    let app = spawn_app_with(|s| s.webhooks.allow_private_targets = false).await;
    let receiver = Receiver::start().await;
    let port = receiver.url.rsplit(':').next().unwrap().split('/').next().unwrap().to_owned();
    let user = app.register("a@example.com").await;
    let s = app.connected_session(&user, "main", "15550001111").await;
    for raw in INTERNAL {
        let url = raw.replace("{port}", &port);
        let body = json_of(app.post("/api/v1/webhooks", &user.token, json!({ "url": url })).await, 422).await;
        assert_eq!(body["code"], "target_not_allowed", "{url}: {body}");
        let detail = body["detail"].as_str().unwrap();
        assert!(!detail.contains("127.0.0.1") && !detail.contains("refused"), "no address or OS error: {detail}");
        let media =
            json!({ "session_id": s["id"], "to": "15550002222", "media": { "mimetype": "text/plain", "url": url } });
        let body = json_of(app.post("/api/v1/messages", &user.token, media).await, 422).await;
        assert_eq!(body["code"], "target_not_allowed", "media {url}: {body}");
    }
    // Updating an existing webhook to an internal URL is refused the same way.
    let hook =
        json_of(app.post("/api/v1/webhooks", &user.token, json!({ "url": "https://93.184.216.34/hook" })).await, 201)
            .await;
    let patch = app
        .request(
            reqwest::Method::PATCH,
            &format!("/api/v1/webhooks/{}", hook["id"].as_str().unwrap()),
            Some(&user.token),
        )
        .json(&json!({ "url": format!("http://localhost:{port}/x") }))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(patch, 422).await["code"], "target_not_allowed");
    let list = json_of(app.get("/api/v1/webhooks", &user.token).await, 200).await;
    assert_eq!(list.as_array().unwrap().len(), 1, "only the public one was created");
    assert!(receiver.requests().is_empty(), "nothing reached the internal receiver");
    app.stop().await;
}

/// A webhook registered while internal targets were allowed, delivered after they no
/// longer are (what a DNS rebinding amounts to: the name's address changed in between).
#[tokio::test]
async fn deliveries_are_checked_again_when_connecting_and_say_only_unreachable() {
    let app = spawn_app_with(|s| s.webhooks.allow_private_targets = true).await;
    let receiver = Receiver::start().await;
    let user = app.register("a@example.com").await;
    let url = receiver.url.replace("127.0.0.1", "localhost");
    let hook = json_of(app.post("/api/v1/webhooks", &user.token, json!({ "url": url })).await, 201).await;
    let app = app.restart_with(|s| s.webhooks.allow_private_targets = false).await;
    app.create_session(&user, "s", false).await;
    let hid = hook["id"].as_str().unwrap().to_owned();
    let deliveries: Value = eventually(10, "a failed delivery attempt", || async {
        let d = json_of(app.get(&format!("/api/v1/webhooks/{hid}/deliveries"), &user.token).await, 200).await;
        d.as_array().unwrap().iter().any(|x| x["last_error"].is_string()).then_some(d)
    })
    .await;
    let error = deliveries[0]["last_error"].as_str().unwrap();
    assert_eq!(error, "unreachable", "no OS error, no address: {deliveries}");
    assert!(receiver.requests().is_empty(), "the internal receiver was never contacted");
    app.stop().await;
}

#[tokio::test]
async fn a_closed_port_is_reported_as_unreachable_not_as_the_os_error() {
    let app = spawn_app_with(|s| s.webhooks.allow_private_targets = true).await;
    let user = app.register("a@example.com").await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let hook =
        json_of(app.post("/api/v1/webhooks", &user.token, json!({ "url": format!("http://{closed}/x") })).await, 201)
            .await;
    app.create_session(&user, "s", false).await;
    let hid = hook["id"].as_str().unwrap().to_owned();
    let error = eventually(10, "a failed attempt", || async {
        let d = json_of(app.get(&format!("/api/v1/webhooks/{hid}/deliveries"), &user.token).await, 200).await;
        d.as_array().unwrap().iter().find_map(|x| x["last_error"].as_str().map(str::to_owned))
    })
    .await;
    assert_eq!(error, "unreachable");
    app.stop().await;
}
