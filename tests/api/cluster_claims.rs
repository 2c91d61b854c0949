//! Cluster mode: one phone has one active session across all nodes (claims live in the
//! database), also when two nodes pair the same phone at the same moment.

use futures_util::future::join;
use serde_json::{json, Value};
use wahub_tests::{cluster_available, eventually, spawn_cluster, stop_cluster, TestApp, TestUser};

async fn offering_qr(node: &TestApp, user: &TestUser, name: &str) -> String {
    let s = node.create_session(user, name, true).await;
    let id = s["id"].as_str().expect("id").to_owned();
    node.wait_status(user, &id, "scan_qr").await;
    id
}

/// The session once pairing has settled: connected, or failed.
async fn settled(node: &TestApp, user: &TestUser, id: &str) -> Value {
    eventually(15, "the pairing to settle", || async {
        let s = node.session(user, id).await;
        matches!(s["status"].as_str(), Some("connected" | "failed")).then_some(s)
    })
    .await
}

#[tokio::test]
async fn two_nodes_pairing_one_phone_at_once_connect_only_one_session() {
    if !cluster_available() {
        return;
    }
    let nodes = spawn_cluster(2, |_| {}).await;
    let (a, b) = (&nodes[0], &nodes[1]);
    let alice = a.register("alice@example.com").await;
    let bob = b.register("bob@example.com").await;
    for round in 0..5 {
        let phone = format!("6281255500{round:02}");
        let on_a = offering_qr(a, &alice, &format!("a{round}")).await;
        let on_b = offering_qr(b, &bob, &format!("b{round}")).await;
        let scan = |id: &str| format!("/api/v1/sessions/{id}/sim/scan");
        let (ra, rb) = join(
            a.post(&scan(&on_a), &alice.token, json!({ "phone": phone })),
            b.post(&scan(&on_b), &bob.token, json!({ "phone": phone })),
        )
        .await;
        assert_eq!((ra.status().as_u16(), rb.status().as_u16()), (200, 200), "round {round}: both phones scanned");
        let (sa, sb) = (settled(a, &alice, &on_a).await, settled(b, &bob, &on_b).await);
        let connected = [&sa, &sb].iter().filter(|s| s["status"] == "connected").count();
        assert_eq!(connected, 1, "round {round}: exactly one session holds the phone: {sa} / {sb}");
        let loser = if sa["status"] == "failed" { &sa } else { &sb };
        assert_eq!(loser["status_reason"], "duplicate_phone", "round {round}: {loser}");
    }
    stop_cluster(nodes).await;
}
