//! kill -9 of the node running a third of the sessions: how long each of its sessions
//! takes to be connected on another node (new connection, not the old row).

use std::time::{Duration, Instant};

use wahub_tests::{Cluster, TestUser};

use crate::drive::{owners, BenchSession};

pub async fn kill_and_measure(c: &mut Cluster, users: &[TestUser], sessions: &[BenchSession]) -> anyhow::Result<()> {
    let owner = owners(c, users, sessions, 1).await;
    let victims: Vec<&BenchSession> =
        sessions.iter().zip(&owner).filter(|(_, o)| **o == Some(0)).map(|(s, _)| s).collect();
    let mut connected_before = Vec::with_capacity(victims.len());
    for s in &victims {
        let v = c.session(1, &users[s.user], &s.id).await;
        connected_before.push(v.map(|v| v["last_connected_at"].clone()).unwrap_or_default());
    }
    println!("kill -9 of {} running {} of {} sessions", c.nodes[0].id, victims.len(), sessions.len());
    let killed = Instant::now();
    c.kill9(0);
    let gone = c.nodes[0].id.clone();
    let mut took: Vec<Option<Duration>> = vec![None; victims.len()];
    let deadline = killed + Duration::from_secs(300);
    while took.iter().any(Option::is_none) && Instant::now() < deadline {
        for (k, s) in victims.iter().enumerate() {
            if took[k].is_some() {
                continue;
            }
            let via = 1 + k % 2;
            if let Some(v) = c.session(via, &users[s.user], &s.id).await {
                let node = v["node"].as_str().unwrap_or("");
                let moved = v["status"] == "connected" && !node.is_empty() && node != gone;
                if moved && v["last_connected_at"] != connected_before[k] {
                    took[k] = Some(killed.elapsed());
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut ms: Vec<u128> = took.iter().flatten().map(Duration::as_millis).collect();
    ms.sort_unstable();
    let missing = took.iter().filter(|t| t.is_none()).count();
    if ms.is_empty() {
        println!("failover: no session moved within 300 s");
        return Ok(());
    }
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "failover ms (kill -9 -> connected elsewhere): min {} p50 {} p90 {} p99 {} max {}; not moved {}",
        ms[0],
        at(0.5),
        at(0.9),
        at(0.99),
        ms[ms.len() - 1],
        missing
    );
    let after = owners(c, users, sessions, 1).await;
    let mut per_node = std::collections::BTreeMap::new();
    for (before, now) in owner.iter().zip(&after) {
        if *before == Some(0) {
            *per_node.entry(now.map_or("none".to_owned(), |i| c.nodes[i].id.clone())).or_insert(0) += 1;
        }
    }
    println!("where they went: {per_node:?}");
    Ok(())
}
