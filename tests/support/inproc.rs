//! In-process cluster nodes: several servers on one PostgreSQL database and one NATS
//! server, kept apart from other tests by a subject prefix of their own.

use wahub::config::Settings;

use super::{nats_url, spawn_app_with, start, TestApp};

/// Cluster mode needs PostgreSQL: `false` (and a note) on SQLite runs.
pub fn cluster_available() -> bool {
    let pg = std::env::var("WAHUB_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres"));
    if !pg {
        eprintln!("cluster tests need WAHUB_TEST_DATABASE_URL=postgres://...; skipped on SQLite");
    }
    pg
}

pub fn clustered(s: &mut Settings) {
    s.cluster.nats_url = Some(nats_url());
    s.cluster.nats_prefix = format!("t{}", uuid::Uuid::new_v4().simple());
}

/// `n` nodes named node-0.. on one fresh database; node 0 owns the database.
pub async fn spawn_cluster(n: usize, adjust: impl Fn(&mut Settings)) -> Vec<TestApp> {
    let first = spawn_app_with(|s| {
        clustered(s);
        s.cluster.node_id = Some("node-0".into());
        adjust(s);
    })
    .await;
    let mut nodes = vec![];
    for i in 1..n {
        let settings = first.peer_settings(&format!("node-{i}"));
        nodes.push(start(settings, first.db().shared()).await);
    }
    nodes.insert(0, first);
    nodes
}

/// Stops the nodes, the database's owner (node 0) last.
pub async fn stop_cluster(mut nodes: Vec<TestApp>) {
    while nodes.len() > 1 {
        if let Some(node) = nodes.pop() {
            node.stop().await;
        }
    }
    if let Some(first) = nodes.pop() {
        first.stop().await;
    }
}
