//! Drives `message.received` events: simulated incoming messages, posted by a fixed
//! number of request loops, each waiting for its answer, until the deadline. Each text
//! carries the time it was posted, for the end-to-end latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use serde_json::json;
use tokio::time::Instant;

use crate::frame::{now_ns, SENT_MARK};
use crate::paced;
use crate::setup::BenchUser;

pub struct LoadCounts {
    pub ok: u64,
    pub failed: u64,
    /// Accepted posts per user.
    pub per_user: Vec<u64>,
}

pub async fn drive(
    client: reqwest::Client,
    base: String,
    users: Arc<Vec<BenchUser>>,
    drivers: usize,
    rate: u64,
    until: Instant,
) -> LoadCounts {
    let per_user: Arc<Vec<AtomicU64>> = Arc::new(users.iter().map(|_| AtomicU64::new(0)).collect());
    let accepted = per_user.clone();
    let posted = paced::run(drivers, rate, until, move |n| {
        let (client, base, users, accepted) = (client.clone(), base.clone(), users.clone(), accepted.clone());
        async move {
            let u = n % users.len();
            let user = &users[u];
            let url = format!("{base}/api/v1/sessions/{}/sim/incoming", user.session_id);
            let text = format!("bench message {n} {SENT_MARK}{}", now_ns());
            let body = json!({ "from": "6289900000000", "text": text });
            let sent = client.post(url).bearer_auth(&user.token).json(&body).send().await;
            let ok = sent.is_ok_and(|r| r.status().is_success());
            if ok {
                accepted[u].fetch_add(1, Ordering::Relaxed);
            }
            ok
        }
    })
    .await;
    let per_user = per_user.iter().map(|n| n.load(Ordering::Relaxed)).collect();
    LoadCounts { ok: posted.ok, failed: posted.failed, per_user }
}
