//! The real engine with nothing to talk to: a closed loopback port (no test ever
//! contacts a host off loopback), so a session must fail honestly
//! (reconnecting → failed/max_retries), never hang or lie.

use serde_json::json;
use wahub_tests::{json_of, spawn_app_with};

#[tokio::test]
async fn without_network_an_unpaired_whatsapp_session_retries_as_starting_then_fails_network() {
    let app = spawn_app_with(|s| {
        s.sessions.engine = wahub::domain::EngineKind::Whatsapp;
        s.sessions.whatsapp_ws_url = Some("ws://127.0.0.1:9/ws/chat".into());
        s.sessions.whatsapp_app_version = Some("2.3000.1000000000".into());
        s.sessions.reconnect_base_ms = 20;
        s.sessions.reconnect_max_ms = 50;
        s.sessions.reconnect_max_attempts = 2;
    })
    .await;
    let user = app.register("a@example.com").await;
    let s = app.create_session(&user, "real", true).await;
    assert_eq!(s["engine"], "whatsapp");
    let id = s["id"].as_str().unwrap();
    let failed = app.wait_status(&user, id, "failed").await;
    // Unpaired: it retried as `starting` and gave up as `network` (`reconnecting` and
    // `max_retries` are for paired sessions).
    assert_eq!(failed["status_reason"], "network");
    assert_eq!(failed["socket_open"], false);
    assert_eq!(failed["auth_paired"], false);
    let events = json_of(app.get("/api/v1/events?since=0&limit=1000", &user.token).await, 200).await;
    let statuses: Vec<_> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "session.status")
        .map(|e| e["data"]["status"].as_str().unwrap().to_owned())
        .collect();
    assert!(!statuses.contains(&"reconnecting".to_owned()), "{statuses:?}");
    assert!(statuses.iter().filter(|s| *s == "starting").count() > 1, "{statuses:?}");
    assert!(!statuses.contains(&"connected".to_owned()));
    // The simulator's phone-side endpoints do not exist with this engine.
    let r = app.post(&format!("/api/v1/sessions/{id}/sim/scan"), &user.token, json!({"phone": "6281234567890"})).await;
    assert_eq!(r.status(), 404);
    app.stop().await;
}
