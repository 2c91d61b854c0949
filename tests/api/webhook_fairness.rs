//! One slow endpoint cannot hold up the others, and each endpoint gets its events in order.

use std::time::Duration;

use serde_json::json;
use wahub_tests::{spawn_app_with, Received, Receiver};

fn seqs(seen: &[Received]) -> Vec<i64> {
    seen.iter().map(|r| r.json()["seq"].as_i64().expect("seq")).collect()
}

fn first_attempts_in_order(seen: &[Received]) {
    let mut first_seen: Vec<i64> = Vec::new();
    for s in seqs(seen) {
        if !first_seen.contains(&s) {
            first_seen.push(s);
        }
    }
    let mut sorted = first_seen.clone();
    sorted.sort_unstable();
    assert_eq!(first_seen, sorted, "deliveries overtook each other");
}

#[tokio::test]
async fn a_slow_endpoint_does_not_take_every_slot() {
    let app = spawn_app_with(|s| s.webhooks.webhook_timeout_ms = 20_000).await;
    let user = app.register("a@example.com").await;
    let slow = Receiver::start().await;
    slow.set_delay(Duration::from_secs(4));
    let fast = Receiver::start().await;
    app.create_webhook(&user, &slow.url, json!(["session.updated"])).await;
    app.create_webhook(&user, &fast.url, json!(["session.updated"])).await;
    let s = app.create_session(&user, "main", false).await;
    let sid = s["id"].as_str().expect("id").to_owned();
    for i in 0..40 {
        app.rename_session(&user, &sid, &format!("n{i}")).await;
    }
    // 40 deliveries to the fast endpoint: with the slow one holding one slot only they
    // all arrive while the slow one answers its first ones.
    let seen = fast.wait_for(40, 8).await;
    first_attempts_in_order(&seen);
    // Give the slow endpoint time for a second request: it must come after the first.
    slow.wait_for(2, 15).await;
    assert_eq!(slow.max_in_flight(), 1, "the slow endpoint got several deliveries at once");
    first_attempts_in_order(&slow.requests());
    app.stop().await;
}

#[tokio::test]
async fn a_retried_delivery_is_not_overtaken_by_later_ones() {
    let app = spawn_app_with(|s| s.webhooks.webhook_retry_base_ms = 300).await;
    let user = app.register("a@example.com").await;
    let receiver = Receiver::start().await;
    receiver.fail_next(1, 503);
    app.create_webhook(&user, &receiver.url, json!(["session.updated"])).await;
    let s = app.create_session(&user, "main", false).await;
    let sid = s["id"].as_str().expect("id").to_owned();
    for i in 0..10 {
        app.rename_session(&user, &sid, &format!("n{i}")).await;
    }
    let seen = receiver.wait_for(11, 15).await;
    assert_eq!(seen[0].answered, 503);
    let delivered: Vec<i64> =
        seen.iter().filter(|r| r.answered == 200).map(|r| r.json()["seq"].as_i64().unwrap()).collect();
    let mut sorted = delivered.clone();
    sorted.sort_unstable();
    assert_eq!(delivered, sorted, "a later event was delivered before the retried one");
    assert_eq!(seqs(&seen)[0], seqs(&seen)[1], "the failed delivery is retried first");
    app.stop().await;
}
