//! Posts simulated incoming messages, each to the node running its session (the
//! simulated phone lives in that node's process, so no post takes the extra hop over
//! NATS), at a steady rate, from a fixed number of request loops. Each text carries the
//! time it was posted (end-to-end latency).

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;
use wahub_tests::{Cluster, TestUser};

use crate::frame::{now_ns, SENT_MARK};
use crate::paced::{self, Posted};

pub struct BenchSession {
    pub user: usize,
    pub id: String,
}

/// Which node (index) runs each session now, as node `via` tells.
pub async fn owners(c: &Cluster, users: &[TestUser], sessions: &[BenchSession], via: usize) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(sessions.len());
    for s in sessions {
        let node = c.session(via, &users[s.user], &s.id).await.and_then(|v| v["node"].as_str().map(str::to_owned));
        out.push(node.and_then(|n| c.nodes.iter().position(|x| x.id == n)));
    }
    out
}

pub async fn run(
    c: &Cluster,
    users: &[TestUser],
    sessions: &[BenchSession],
    drivers: usize,
    rate: u64,
    length: Duration,
) -> Posted {
    let owner = owners(c, users, sessions, 0).await;
    // Per session: the incoming-message URL on its node and its user's token (none: no node runs it).
    let targets: Arc<Vec<Option<(String, String)>>> = Arc::new(
        sessions
            .iter()
            .zip(&owner)
            .map(|(s, node)| {
                let url = |i: usize| c.nodes[i].url(&format!("/api/v1/sessions/{}/sim/incoming", s.id));
                node.map(|i| (url(i), users[s.user].token.clone()))
            })
            .collect(),
    );
    let client = c.client.clone();
    paced::run(drivers, rate, Instant::now() + length, move |n| {
        let (client, targets) = (client.clone(), targets.clone());
        async move {
            let Some((url, token)) = &targets[n % targets.len()] else { return false };
            let body = json!({ "from": "6289900000000", "text": format!("bench {n} {SENT_MARK}{}", now_ns()) });
            let sent = client.post(url).bearer_auth(token).json(&body).send().await;
            sent.is_ok_and(|r| r.status().is_success())
        }
    })
    .await
}
