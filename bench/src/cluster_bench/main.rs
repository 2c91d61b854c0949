//! cluster-bench: three `wahub serve` nodes on this machine (PostgreSQL and NATS), many
//! WebSockets spread over them, simulated incoming messages posted to the node running
//! each session. Reports delivered events/s and latency, then kills (-9) the node owning a
//! third of the sessions and reports how long each of them took to be connected again
//! elsewhere. Every figure is printed with the load average.
//!
//! ```text
//! cargo build --release -p wahub -p wahub-bench
//! WAHUB_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   target/release/cluster-bench --sockets 10000 --users 100 --sessions 300 --rate 200
//! ```

#[path = "../frame.rs"]
mod frame;
#[path = "../paced.rs"]
mod paced;
#[path = "../procfs.rs"]
mod procfs;
#[path = "../sockets.rs"]
mod sockets;
#[path = "../stats.rs"]
mod stats;

mod args;
mod drive;
mod failover;

use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::stream::{self, StreamExt};
use tokio::sync::{watch, Semaphore};
use wahub_tests::{Cluster, ClusterOptions, TestUser};

use args::Args;
use drive::BenchSession;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    if !std::env::var("WAHUB_TEST_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        bail!(
            "set WAHUB_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres (cluster mode needs PostgreSQL)"
        );
    }
    // The harness runs this binary's nodes; it would otherwise build a debug one.
    std::env::set_var("WAHUB_BIN", &args.server);
    let env = vec![
        ("WAHUB_AUTH_IP_BUDGET".to_owned(), "1000000".to_owned()),
        ("WAHUB_AUTH_IP_CONCURRENT_HASHES".to_owned(), "10000".to_owned()),
        ("WAHUB_MAX_SESSIONS_PER_USER".to_owned(), "100".to_owned()),
        ("WAHUB_ACCESS_TOKEN_TTL_SECS".to_owned(), "86400".to_owned()),
        ("WAHUB_SIM_STREAM_CHECK_MS".to_owned(), "0".to_owned()),
    ];
    let opts = ClusterOptions { nodes: 3, lease_ttl_secs: args.ttl_secs, nats: true, env };
    let Some(mut c) = Cluster::start("cluster-bench", opts).await else { bail!("the cluster did not start") };
    println!("3 nodes up ({}); lease TTL {} s; load average {}", args.server.display(), args.ttl_secs, load());

    let users = register(&c, args.users).await;
    let sessions = connect_sessions(&c, &users, args.sessions).await?;
    println!("{} users, {} sessions connected; load average {}", users.len(), sessions.len(), load());

    let live = Arc::new(sockets::Live::default());
    let gate = Arc::new(Semaphore::new(256));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut handles = Vec::with_capacity(args.sockets);
    for i in 0..args.sockets {
        let user = &users[i % users.len()];
        let url = c.nodes[i % c.nodes.len()].ws_url(&format!("token={}", user.token));
        handles.push(sockets::open(url, live.clone(), gate.clone(), stop_rx.clone()));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(180);
    while (live.connected.load(std::sync::atomic::Ordering::Relaxed) as usize) < args.sockets {
        if tokio::time::Instant::now() > deadline {
            bail!(
                "only {} of {} sockets connected",
                live.connected.load(std::sync::atomic::Ordering::Relaxed),
                args.sockets
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rss: u64 = c.nodes.iter().filter_map(|n| n.pid()).filter_map(|p| procfs::rss_kib(p as u32)).sum();
    println!(
        "{} sockets open (a third on each node); RSS of the 3 nodes {} MiB; load average {}",
        args.sockets,
        rss / 1024,
        load()
    );

    let pids: Vec<u32> = c.nodes.iter().filter_map(|n| n.pid()).map(|p| p as u32).collect();
    let cpu = |pids: &[u32]| pids.iter().filter_map(|p| procfs::cpu_seconds(*p)).sum::<f64>();
    let switches = |pids: &[u32]| pids.iter().filter_map(|p| procfs::context_switches(*p)).sum::<u64>();
    let (cpu_before, switches_before) = (cpu(&pids), switches(&pids));
    let before = live.delivered.load(std::sync::atomic::Ordering::Relaxed);
    let started = std::time::Instant::now();
    let posted = drive::run(&c, &users, &sessions, args.drivers, args.rate, Duration::from_secs(args.seconds)).await;
    let load_secs = started.elapsed().as_secs_f64();
    // Let frames in flight arrive.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let delivered = live.delivered.load(std::sync::atomic::Ordering::Relaxed) - before;
    let (cpu_used, switched) = (cpu(&pids) - cpu_before, switches(&pids) - switches_before);
    let _ = stop_tx.send(true);
    let mut reports = Vec::with_capacity(handles.len());
    for h in handles {
        reports.push(h.await.context("socket task")?);
    }
    let expected = posted.ok * (args.sockets / users.len()) as u64;
    let out_of_order: u64 = reports.iter().map(|r| r.out_of_order).sum();
    let failed = reports.iter().filter(|r| r.failed.is_some()).count();
    let latency = stats::latency(reports.iter().flat_map(|r| r.latency_us.iter().copied()).collect());
    let e2e = stats::latency(reports.iter().flat_map(|r| r.end_to_end_us.iter().copied()).collect());
    println!(
        "load: {} posted ({:.0}/s, {} refused), {} delivered ({:.0}/s), expected {}, out of order {}, failed sockets {}",
        posted.ok,
        posted.ok as f64 / load_secs,
        posted.failed,
        delivered,
        delivered as f64 / load_secs,
        expected,
        out_of_order,
        failed
    );
    if let Some(l) = latency {
        println!(
            "server-stamped latency ms: p50 {:.2} p99 {:.2} max {:.2} ({} frames)",
            l.p50_ms, l.p99_ms, l.max_ms, l.samples
        );
    }
    if let Some(l) = e2e {
        println!("end-to-end latency ms:     p50 {:.2} p99 {:.2} max {:.2}", l.p50_ms, l.p99_ms, l.max_ms);
    }
    println!(
        "the 3 nodes: {:.2} CPU-s ({:.1} CPU-s per million delivered), {:.1} context switches per posted event",
        cpu_used,
        cpu_used * 1e6 / delivered.max(1) as f64,
        switched as f64 / posted.ok.max(1) as f64
    );
    println!("load average {}", load());

    failover::kill_and_measure(&mut c, &users, &sessions).await?;
    println!("load average {}", load());
    Ok(())
}

fn load() -> String {
    procfs::load_average().map_or_else(|| "?".into(), |l| format!("{:.2} {:.2} {:.2}", l[0], l[1], l[2]))
}

async fn register(c: &Cluster, n: usize) -> Vec<TestUser> {
    stream::iter(0..n)
        .map(|u| async move { c.register(u % c.nodes.len(), &format!("bench{u}@example.com")).await })
        .buffered(8)
        .collect()
        .await
}

/// `n` sessions over the users, each started and scanned on node (user + k) mod 3.
async fn connect_sessions(c: &Cluster, users: &[TestUser], n: usize) -> anyhow::Result<Vec<BenchSession>> {
    let made: Vec<BenchSession> = stream::iter(0..n)
        .map(|k| async move {
            let u = k % users.len();
            let node = (u + k / users.len()) % c.nodes.len();
            let s = c.connected_session(node, &users[u], &format!("s{k}"), &format!("6281{:09}", k)).await;
            BenchSession { user: u, id: s["id"].as_str().unwrap_or_default().to_owned() }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    if made.iter().any(|s| s.id.is_empty()) {
        bail!("a session came back without an id");
    }
    Ok(made)
}
