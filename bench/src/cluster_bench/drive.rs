//! Posts simulated incoming messages, each to the node running its session (the
//! simulated phone lives in that node's process), at a steady rate, from a fixed number
//! of request loops. Each text carries the time it was posted (end-to-end latency).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;
use wahub_tests::Cluster;

use crate::frame::{now_ns, SENT_MARK};

pub struct BenchSession {
    pub user: usize,
    pub id: String,
}

#[derive(Default)]
pub struct Posted {
    pub ok: u64,
    pub failed: u64,
}

/// Which node (index) runs each session now, as node `via` tells.
pub async fn owners(
    c: &Cluster,
    users: &[wahub_tests::TestUser],
    sessions: &[BenchSession],
    via: usize,
) -> Vec<Option<usize>> {
    let mut out = Vec::with_capacity(sessions.len());
    for s in sessions {
        let node = c.session(via, &users[s.user], &s.id).await.and_then(|v| v["node"].as_str().map(str::to_owned));
        out.push(node.and_then(|n| c.nodes.iter().position(|x| x.id == n)));
    }
    out
}

pub async fn run(
    c: &Cluster,
    users: &[wahub_tests::TestUser],
    sessions: &[BenchSession],
    drivers: usize,
    rate: u64,
    length: Duration,
) -> Posted {
    let owner = owners(c, users, sessions, 0).await;
    let until = Instant::now() + length;
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let loops = (0..drivers).map(|d| {
        let (ok, failed, owner) = (ok.clone(), failed.clone(), &owner);
        async move {
            let mut pace =
                (rate > 0).then(|| tokio::time::interval(Duration::from_secs_f64(drivers as f64 / rate as f64)));
            let mut n = d;
            while Instant::now() < until {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                let k = n % sessions.len();
                n += drivers;
                let Some(node) = owner[k] else {
                    failed.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let s = &sessions[k];
                let url = c.nodes[node].url(&format!("/api/v1/sessions/{}/sim/incoming", s.id));
                let body = json!({ "from": "6289900000000", "text": format!("bench {n} {SENT_MARK}{}", now_ns()) });
                let sent = c.client.post(url).bearer_auth(&users[s.user].token).json(&body).send().await;
                if sent.is_ok_and(|r| r.status().is_success()) {
                    ok.fetch_add(1, Ordering::Relaxed);
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    });
    futures_util::future::join_all(loops).await;
    Posted { ok: ok.load(Ordering::Relaxed), failed: failed.load(Ordering::Relaxed) }
}
