//! Cluster mode with real `wahub serve` processes (PostgreSQL only; skipped otherwise).

use std::time::Duration;

use wahub_tests::{Cluster, ClusterOptions};

#[tokio::test]
async fn harness_runs_stops_and_kills_real_processes() {
    let opts = ClusterOptions { nodes: 1, nats: false, ..Default::default() };
    let Some(mut c) = Cluster::start("harness_runs_stops_and_kills_real_processes", opts).await else { return };
    let admin = c.register(0, "admin@example.com").await;
    c.sigstop(0);
    let stalled = c.client.get(c.nodes[0].url("/healthz")).timeout(Duration::from_millis(500)).send().await;
    assert!(stalled.is_err(), "a stopped process answers nothing");
    c.sigcont(0);
    c.wait_ready(0).await;
    assert!(c.sigterm(0, Duration::from_secs(30)).await, "SIGTERM stops the node");
    c.restart(0).await;
    assert_eq!(c.get(0, "/api/v1/admin/nodes", &admin.token).await.status(), 200);
    c.kill9(0);
    assert!(!c.nodes[0].is_running());
}
