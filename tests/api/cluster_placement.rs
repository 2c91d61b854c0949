//! Rebalancing across real `wahub serve` processes (PostgreSQL and NATS; skipped on SQLite):
//! a node far above its share hands connected sessions to nodes below it, without a QR,
//! and stops at its share; sessions being paired (which cannot move) do not count.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{json, Value};
use wahub_tests::{eventually, json_of, Cluster, ClusterOptions, TestUser};

use crate::cluster::{assert_moved_without_qr, assert_no_gap, events_of, user_with_sessions};

/// Where each of `ids` runs and in which status, as node 0 reports it.
async fn placement(c: &Cluster, user: &TestUser, ids: &[String]) -> HashMap<String, (String, Value)> {
    let mut seen = HashMap::new();
    for id in ids {
        let s = c.session(0, user, id).await.expect("session");
        let node = s["node"].as_str().unwrap_or("").to_owned();
        seen.insert(id.clone(), (node, s["status"].clone()));
    }
    seen
}

fn on_node(seen: &HashMap<String, (String, Value)>, node: &str) -> usize {
    seen.values().filter(|(n, _)| n == node).count()
}

#[tokio::test]
async fn a_node_far_above_its_share_hands_sessions_to_nodes_that_join_and_stops_at_its_share() {
    let test = "a_node_far_above_its_share_hands_sessions_to_nodes_that_join_and_stops_at_its_share";
    let Some(mut c) = Cluster::start(test, ClusterOptions { nodes: 1, ..Default::default() }).await else { return };
    let (user, ids) = user_with_sessions(&c, 0, 8).await;
    let before = events_of(&c, &user).await.last().map_or(0, |e| e.0);

    c.add_node().await;
    c.add_node().await;
    // Share = ceil(8 / 3) = 3 and slack 2: node0 gives one session per round while it runs
    // more than 5 and some node runs fewer than 2.
    let settled = eventually(60, "node0 down to its share plus slack, every session connected", || async {
        let seen = placement(&c, &user, &ids).await;
        let all_connected = seen.values().all(|(node, status)| status == "connected" && !node.is_empty());
        (all_connected && on_node(&seen, "node0") <= 5).then_some(seen)
    })
    .await;
    let moved: Vec<String> = settled.iter().filter(|(_, (n, _))| n != "node0").map(|(id, _)| id.clone()).collect();
    assert!(moved.len() >= 3, "at least three sessions left node0: {settled:?}");
    assert!(on_node(&settled, "node0") >= 3, "node0 keeps its share: {settled:?}");

    // Hysteresis: once balanced, nothing bounces back and forth.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let later = placement(&c, &user, &ids).await;
    assert_eq!(later, settled, "placement is stable once no node is far above its share");

    let events = events_of(&c, &user).await;
    assert_no_gap(&events);
    assert_moved_without_qr(&events, before, &moved, "server_restart");
}

#[tokio::test]
async fn sessions_being_paired_do_not_make_a_node_hand_its_connected_sessions_away() {
    let test = "sessions_being_paired_do_not_make_a_node_hand_its_connected_sessions_away";
    let Some(c) = Cluster::start(test, ClusterOptions::default()).await else { return };
    let (user, connected) = user_with_sessions(&c, 0, 4).await;
    // Six more on node0 offering QRs nobody scans: node0 holds ten leases, but only four
    // paired sessions, which is within its share (ceil(4 / 3) = 2) plus slack (2).
    for k in 0..6 {
        let r = c.post(0, "/api/v1/sessions", &user.token, json!({ "name": format!("q{k}"), "start": true })).await;
        let id = json_of(r, 201).await["id"].as_str().expect("id").to_owned();
        eventually(30, "a QR", || async { c.session(0, &user, &id).await.filter(|s| s["status"] == "scan_qr") }).await;
    }
    let before = placement(&c, &user, &connected).await;
    assert_eq!(on_node(&before, "node0"), 4, "{before:?}");
    let last_seq = events_of(&c, &user).await.last().map_or(0, |e| e.0);

    // Placement runs every 500 ms: eight rounds.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = placement(&c, &user, &connected).await;
    assert_eq!(after, before, "no connected session was handed away");
    let restarts: Vec<_> =
        events_of(&c, &user).await.into_iter().filter(|e| e.0 > last_seq && e.3["status"] == "starting").collect();
    assert!(restarts.is_empty(), "no session restarted: {restarts:?}");
}
