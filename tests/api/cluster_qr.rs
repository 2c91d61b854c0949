//! Cluster mode: starts sent to any node at once share one QR (the owner's), every node
//! shows that QR (REST and the WebSocket hello), and the simulated phone, which lives in
//! the owner's process, is reachable through any node.

use futures_util::future::join_all;
use serde_json::{json, Value};
use wahub_tests::{cluster_available, json_of, spawn_cluster, stop_cluster};

#[tokio::test]
async fn concurrent_starts_on_three_nodes_share_one_qr_that_every_node_shows_and_scans() {
    if !cluster_available() {
        return;
    }
    let nodes = spawn_cluster(3, |_| {}).await;
    let user = nodes[0].register("qr@example.com").await;
    let s = nodes[1].create_session(&user, "shared", false).await;
    let id = s["id"].as_str().expect("id").to_owned();
    let start = format!("/api/v1/sessions/{id}/start");
    let starts = (0..15).map(|k| nodes[k % 3].post(&start, &user.token, json!({})));
    let answers: Vec<u16> = join_all(starts).await.iter().map(|r| r.status().as_u16()).collect();
    assert!(answers.iter().all(|s| *s == 200), "every start answered 200: {answers:?}");
    let running: Vec<usize> = nodes.iter().map(|n| n.state.sessions.live_count()).collect();
    assert_eq!(running.iter().sum::<usize>(), 1, "one task in the whole cluster: {running:?}");

    let mut qrs: Vec<Value> = vec![];
    for node in &nodes {
        qrs.push(json_of(node.get(&format!("/api/v1/sessions/{id}/qr"), &user.token).await, 200).await);
    }
    assert!(qrs.iter().all(|q| q["value"] == qrs[0]["value"]), "one QR on every node: {qrs:?}");
    assert!(qrs[0]["value"].as_str().is_some_and(|v| v.starts_with("2@")), "{}", qrs[0]);
    for node in &nodes {
        let mut ws = node.ws(&user, None).await;
        let hello = ws.next_json().await;
        assert_eq!(hello["qr"][&id]["value"], qrs[0]["value"], "the hello on every node carries it: {hello}");
    }
    let events = json_of(nodes[2].get("/api/v1/events?since=0&limit=1000", &user.token).await, 200).await;
    let offered = events.as_array().map_or(0, |e| e.iter().filter(|e| e["event"] == "session.qr").count());
    assert_eq!(offered, 1, "one QR offered, not one per node or per start");

    // The simulated phone is in the owner's process; its actions work through any node.
    let owner = nodes[0].session(&user, &id).await["node"].as_str().expect("node").to_owned();
    let other =
        nodes.iter().position(|n| n.state.settings.cluster.node_id.as_deref() != Some(&owner)).expect("a non-owner");
    let scan = json!({ "phone": "6281234500001" });
    assert_eq!(nodes[other].post(&format!("/api/v1/sessions/{id}/sim/scan"), &user.token, scan).await.status(), 200);
    nodes[other].wait_status(&user, &id, "connected").await;
    for (k, node) in nodes.iter().enumerate() {
        let msg = json!({ "from": "6289900000009", "text": format!("via node {k}") });
        let r = node.post(&format!("/api/v1/sessions/{id}/sim/incoming"), &user.token, msg).await;
        assert_eq!(r.status(), 200, "incoming through node {k}");
    }
    let sent = json_of(nodes[other].get(&format!("/api/v1/sessions/{id}/sim/sent"), &user.token).await, 200).await;
    assert!(sent.as_array().is_some_and(Vec::is_empty), "{sent}");
    let stored = json_of(nodes[other].get("/api/v1/messages?direction=in", &user.token).await, 200).await;
    assert_eq!(stored.as_array().map_or(0, Vec::len), 3, "{stored}");
    stop_cluster(nodes).await;
}
