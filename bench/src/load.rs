//! Drives `message.received` events: simulated incoming messages, posted by a fixed
//! number of request loops, each waiting for its answer, until the deadline. Each text
//! carries the time it was posted, for the end-to-end latency.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::time::Instant;

use crate::frame::{now_ns, SENT_MARK};
use crate::setup::BenchUser;

pub struct LoadCounts {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
    /// Accepted posts per user.
    pub per_user: Vec<AtomicU64>,
}

pub async fn drive(
    client: reqwest::Client,
    base: String,
    users: Arc<Vec<BenchUser>>,
    drivers: usize,
    rate: u64,
    until: Instant,
) -> Arc<LoadCounts> {
    let per_user = users.iter().map(|_| AtomicU64::new(0)).collect();
    let counts = Arc::new(LoadCounts { ok: AtomicU64::new(0), failed: AtomicU64::new(0), per_user });
    let loops = (0..drivers).map(|d| {
        let (client, base, users, counts) = (client.clone(), base.clone(), users.clone(), counts.clone());
        tokio::spawn(async move {
            // Each loop paces itself to its share of `rate`.
            let mut pace =
                (rate > 0).then(|| tokio::time::interval(Duration::from_secs_f64(drivers as f64 / rate as f64)));
            let mut n = d;
            while Instant::now() < until {
                if let Some(pace) = pace.as_mut() {
                    pace.tick().await;
                }
                let u = n % users.len();
                let user = &users[u];
                n += drivers;
                let url = format!("{base}/api/v1/sessions/{}/sim/incoming", user.session_id);
                let text = format!("bench message {n} {SENT_MARK}{}", now_ns());
                let body = json!({ "from": "6289900000000", "text": text });
                let sent = client.post(url).bearer_auth(&user.token).json(&body).send().await;
                match sent {
                    Ok(r) if r.status().is_success() => {
                        counts.ok.fetch_add(1, Ordering::Relaxed);
                        counts.per_user[u].fetch_add(1, Ordering::Relaxed);
                    }
                    _ => {
                        counts.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        })
    });
    let loops: Vec<_> = loops.collect();
    for l in loops {
        let _ = l.await;
    }
    counts
}
