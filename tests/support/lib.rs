//! Test support: a real wahub server per test, on port 0, with its own database
//! (a SQLite file, or a fresh PostgreSQL database when `WAHUB_TEST_DATABASE_URL`
//! points at a server), plus small HTTP and WebSocket clients.

mod app;
mod cluster;
mod db;
mod inproc;
mod log_capture;
mod receiver;
mod ws;

pub use app::{json_of, spawn_app, spawn_app_with, start, start_error, TestApp, TestUser};
pub use cluster::{nats_url, wahub_bin, Cluster, ClusterOptions, Node};
pub use db::{insert_session_row, TestDb};
pub use inproc::{cluster_available, clustered, spawn_cluster, stop_cluster};
pub use log_capture::LogCapture;
pub use receiver::{Received, Receiver};
pub use ws::WsClient;

/// Polls `check` until it returns `Some`, or panics after `secs` seconds.
pub async fn eventually<T, F, Fut>(secs: u64, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check().await {
            return v;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting for {what}");
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
