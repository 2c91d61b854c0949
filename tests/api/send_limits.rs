//! The daily limit is per session: concurrent sends over two sessions each stop at it.

use serde_json::json;
use wahub_tests::spawn_app_with;

#[tokio::test]
async fn concurrent_sends_on_two_sessions_each_stop_at_their_own_limit() {
    let app = spawn_app_with(|s| s.sessions.daily_message_limit = 5).await;
    let user = app.register("a@example.com").await;
    let a = app.connected_session(&user, "a", "6281234567890").await["id"].as_str().expect("id").to_owned();
    let b = app.connected_session(&user, "b", "6281234567891").await["id"].as_str().expect("id").to_owned();
    let bodies: Vec<_> = (0..24)
        .map(
            |i| json!({"session_id": if i % 2 == 0 { &a } else { &b }, "to": "6289876543210", "text": format!("m{i}")}),
        )
        .collect();
    let sends = bodies.into_iter().map(|body| app.post("/api/v1/messages", &user.token, body));
    let answers = futures_util::future::join_all(sends).await;
    let mut accepted = std::collections::HashMap::<String, usize>::new();
    for r in answers {
        match r.status().as_u16() {
            202 => {
                let body: serde_json::Value = r.json().await.expect("json");
                *accepted.entry(body["session_id"].as_str().expect("session").to_owned()).or_default() += 1;
            }
            429 => assert_eq!(r.json::<serde_json::Value>().await.expect("json")["code"], "daily_limit_reached"),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(accepted.get(&a), Some(&5));
    assert_eq!(accepted.get(&b), Some(&5));
    app.stop().await;
}
