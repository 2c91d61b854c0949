//! Fan-out across real `wahub serve` processes (PostgreSQL and NATS; skipped on SQLite):
//! every user's socket, on whichever node, sees every event of all its sessions, which
//! run on different nodes, once each and in seq order; REST on any node sees any session.

use futures_util::future::join_all;
use serde_json::Value;
use wahub_tests::{json_of, Cluster, ClusterOptions, TestUser, WsClient};

const USERS: usize = 30;
const SESSIONS: usize = 3;

async fn hello_seq(ws: &mut WsClient) -> i64 {
    let hello = ws.next_json_within(30).await;
    assert_eq!(hello["type"], "hello", "{hello}");
    hello["seq"].as_i64().expect("hello seq")
}

/// The user's stored events after `since`, as any node lists them.
async fn stored(c: &Cluster, node: usize, user: &TestUser, since: i64) -> Vec<Value> {
    let r = c.get(node, &format!("/api/v1/events?since={since}&limit=1000"), &user.token).await;
    json_of(r, 200).await.as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn thirty_users_on_three_nodes_see_every_event_of_their_sessions_in_order() {
    let test = "thirty_users_on_three_nodes_see_every_event_of_their_sessions_in_order";
    // Not a failover test: a lease long enough that a loaded machine never lets one lapse.
    let opts = ClusterOptions { lease_ttl_secs: 10, ..Default::default() };
    let Some(c) = Cluster::start(test, opts).await else { return };
    let mut users = vec![];
    for u in 0..USERS {
        users.push(c.register(u % 3, &format!("u{u}@example.com")).await);
    }
    // Each user's socket on a node of its own (spread, not the one its sessions start on).
    let mut sockets = vec![];
    for (u, user) in users.iter().enumerate() {
        let node = (u * 7 + 1) % 3;
        let mut ws = WsClient::connect(&c.nodes[node].ws_url(&format!("token={}", user.token))).await.expect("ws");
        let from = hello_seq(&mut ws).await;
        sockets.push((ws, from));
    }
    let sessions: Vec<Vec<String>> = join_all(users.iter().enumerate().map(|(u, user)| {
        let c = &c;
        async move {
            let mut ids = vec![];
            for k in 0..SESSIONS {
                let phone = format!("62812{:04}{:03}", u, k);
                let s = c.connected_session((u + k) % 3, user, &format!("s{k}"), &phone).await;
                ids.push(s["id"].as_str().expect("id").to_owned());
            }
            ids
        }
    }))
    .await;

    // REST on any node shows any session. Placement may be handing a connected session to
    // a less loaded node meanwhile (it is `starting` there for a moment), so each node gets
    // a while to show it connected again.
    for (u, user) in users.iter().enumerate() {
        for id in &sessions[u] {
            for node in 0..3 {
                let s = c.session(node, user, id).await.expect("every node answers for every session");
                if s["status"] != "connected" {
                    assert_eq!(s["status"], "starting", "only a hand-over may show a session not connected: {s}");
                    wahub_tests::eventually(30, &format!("session {id} connected again on node {node}"), || async {
                        c.session(node, user, id).await.filter(|s| s["status"] == "connected")
                    })
                    .await;
                }
            }
        }
    }

    for (u, (ws, from)) in sockets.iter_mut().enumerate() {
        let user = &users[u];
        let expected: Vec<i64> =
            stored(&c, u % 3, user, *from).await.iter().filter_map(|e| e["seq"].as_i64()).collect();
        assert!(expected.len() >= SESSIONS * 3, "user {u} has the events of its three sessions");
        let mut got = vec![];
        let mut seen_sessions = std::collections::HashSet::new();
        while got.len() < expected.len() {
            let frame = ws.next_json_within(30).await;
            if frame["type"] != "event" {
                continue;
            }
            if let Some(s) = frame["session_id"].as_str() {
                seen_sessions.insert(s.to_owned());
            }
            got.push(frame["seq"].as_i64().expect("seq"));
        }
        assert_eq!(got, expected, "user {u}: every event once, in seq order");
        assert_eq!(seen_sessions.len(), SESSIONS, "user {u}: events of sessions on three nodes");
    }
}
