//! Cluster mode: a webhook registered through one node gets the events another node
//! stores right after, although that node had the user's (empty) endpoint list cached.

use serde_json::json;
use wahub_tests::{cluster_available, json_of, spawn_cluster, stop_cluster, Receiver};

#[tokio::test]
async fn a_webhook_made_on_one_node_gets_the_next_event_stored_by_another() {
    if !cluster_available() {
        return;
    }
    let nodes = spawn_cluster(2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let receiver = Receiver::start().await;
    let user = a.register("hooks@example.com").await;
    // Node a stores an event of the user: it now knows the user has no endpoints.
    a.create_session(&user, "before", false).await;
    let hook =
        json!({ "url": receiver.url, "events": ["session.created"], "secret": "cluster-webhook-secret-0123456789" });
    json_of(b.post("/api/v1/webhooks", &user.token, hook).await, 201).await;
    a.create_session(&user, "after", false).await;
    let seen = receiver.wait_for(1, 15).await;
    assert_eq!(seen[0].json()["data"]["name"], "after", "the event after the webhook reached it");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(receiver.requests().len(), 1, "and nothing from before it");
    stop_cluster(nodes).await;
}
