//! Request loops at a steady rate: `drivers` loops, each paced to its share of `rate`
//! (0: as fast as its answers come) from its own offset in the period, so posts come evenly
//! spaced rather than `drivers` at once; calling `post(n)` with n = its number, then n +
//! `drivers`, ... until `until`; each waits for its answer. Counts the posts that succeeded.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug, Default, Clone, Copy)]
pub struct Posted {
    pub ok: u64,
    pub failed: u64,
}

pub async fn run<F, Fut>(drivers: usize, rate: u64, until: Instant, post: F) -> Posted
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let started = Instant::now();
    let loops: Vec<_> = (0..drivers)
        .map(|d| {
            let (ok, failed, post) = (ok.clone(), failed.clone(), post.clone());
            tokio::spawn(async move {
                // Each loop starts its period at its own offset, so together they post one
                // request every 1/rate s instead of all `drivers` at once every period.
                let mut pace = (rate > 0).then(|| {
                    let period = Duration::from_secs_f64(drivers as f64 / rate as f64);
                    tokio::time::interval_at(started + period.mul_f64(d as f64 / drivers as f64), period)
                });
                let mut n = d;
                while Instant::now() < until {
                    if let Some(pace) = pace.as_mut() {
                        pace.tick().await;
                    }
                    let counter = if post(n).await { &ok } else { &failed };
                    counter.fetch_add(1, Ordering::Relaxed);
                    n += drivers;
                }
            })
        })
        .collect();
    for l in loops {
        let _ = l.await;
    }
    Posted { ok: ok.load(Ordering::Relaxed), failed: failed.load(Ordering::Relaxed) }
}
