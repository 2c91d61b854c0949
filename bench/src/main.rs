//! ws-fanout: how many WebSockets wahub holds and how fast it fans events out to them.
//!
//! Starts `wahub serve` as a child process on 127.0.0.1 with a fresh SQLite database,
//! makes M users with a connected simulated session each, opens N sockets spread over
//! them, then posts simulated incoming messages for `--seconds` and reports what the
//! sockets received. Latency is receive time minus the event's `at`, which the server
//! stamps just before storing the event: it covers the commit, the fan-out and the
//! socket, on one machine and one clock.

mod args;
mod frame;
mod load;
mod server;
mod setup;
mod sockets;
mod stats;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use args::Args;
use server::Server;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse()?;
    match server::raise_fd_limit() {
        Some(limit) if (limit as usize) < args.sockets + 512 => {
            eprintln!(
                "warning: open-file limit {limit} is too low for {} sockets; run `ulimit -n 65536` first",
                args.sockets
            )
        }
        Some(limit) => println!("open-file limit: {limit}"),
        None => eprintln!("warning: cannot read the open-file limit"),
    }
    let server = Server::start(&args.server).await?;
    let result = run(&args, &server).await;
    if result.is_err() {
        eprintln!("--- server log (tail) ---\n{}", server.log_tail(20));
    }
    server.stop().await;
    result
}

async fn run(args: &Args, server: &Server) -> anyhow::Result<()> {
    println!(
        "ws-fanout: {} sockets over {} users, {} s of load from {} request loops{}",
        args.sockets,
        args.users,
        args.seconds,
        args.drivers,
        if args.rate > 0 { format!(" capped at {} events/s", args.rate) } else { String::new() }
    );
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.drivers + 16).build()?;
    let started = Instant::now();
    let users = Arc::new(setup::users(&client, &server.base, args.users).await.context("setting up users")?);
    println!("setup: {} users with a connected sim session in {:.1} s", users.len(), started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = server.rss_kib();

    let live = Arc::new(sockets::Live::default());
    let gate = Arc::new(Semaphore::new(64));
    let (stop_tx, stop_rx) = watch::channel(false);
    let ws_base = server.base.replacen("http://", "ws://", 1);
    let opening = Instant::now();
    let handles: Vec<_> = (0..args.sockets)
        .map(|i| {
            let url = format!("{ws_base}/api/v1/ws?token={}", users[i % users.len()].token);
            sockets::open(url, live.clone(), gate.clone(), stop_rx.clone())
        })
        .collect();
    while live.connected.load(Ordering::Relaxed) < args.sockets as u64
        && handles.iter().any(|h| !h.is_finished())
        && opening.elapsed() < Duration::from_secs(180)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let opened = live.connected.load(Ordering::Relaxed);
    println!("opened: {opened} / {} sockets in {:.1} s", args.sockets, opening.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = server.rss_kib();

    let d0 = live.delivered.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let until = t0 + Duration::from_secs(args.seconds);
    let counts = load::drive(client.clone(), server.base.clone(), users.clone(), args.drivers, args.rate, until).await;
    let window = t0.elapsed().as_secs_f64();
    let delivered_in_window = live.delivered.load(Ordering::Relaxed) - d0;
    let held = live.connected.load(Ordering::Relaxed);
    let expected: u64 = counts
        .per_user
        .iter()
        .enumerate()
        .map(|(u, n)| n.load(Ordering::Relaxed) * sockets_of(u, args.sockets, args.users))
        .sum();
    let drained = drain(&live, expected).await;
    let rss_loaded = server.rss_kib();
    let metrics = client.get(format!("{}/metrics", server.base)).send().await?.text().await?;
    let _ = stop_tx.send(true);

    let mut latencies = Vec::new();
    let (mut total, mut out_of_order, mut slow, mut failed) = (0u64, 0u64, 0u64, 0u64);
    let mut first_failure = None;
    for h in handles {
        let r = h.await.unwrap_or_default();
        total += r.events;
        out_of_order += r.out_of_order;
        slow += u64::from(r.close_code == Some(4008));
        if let Some(e) = r.failed {
            failed += 1;
            first_failure.get_or_insert(e);
        }
        latencies.extend(r.latency_us);
    }
    let ok = counts.ok.load(Ordering::Relaxed);

    println!(
        "connections held: {held} / {} during the load ({failed} failed{})",
        args.sockets,
        first_failure.map(|e| format!(", first: {e}")).unwrap_or_default()
    );
    if let (Some(before), Some(idle)) = (rss_before, rss_idle) {
        let per = idle.saturating_sub(before) as f64 / opened.max(1) as f64;
        println!(
            "server RSS: {:.1} MiB before sockets, {:.1} MiB with {opened} idle sockets = {per:.1} KiB per socket; {:.1} MiB after load",
            before as f64 / 1024.0,
            idle as f64 / 1024.0,
            rss_loaded.unwrap_or(0) as f64 / 1024.0
        );
    }
    println!(
        "published: {ok} events in {window:.1} s = {:.0}/s ({} requests failed); server counted {} published, {} slow closes",
        ok as f64 / window,
        counts.failed.load(Ordering::Relaxed),
        metric(&metrics, "wahub_events_published_total").unwrap_or(-1),
        metric(&metrics, "wahub_ws_slow_closes_total").unwrap_or(-1),
    );
    println!(
        "delivered: {:.0} events/s ({delivered_in_window} frames in the window); {total} in all of {expected} expected ({:.1} s to drain), {} missing, {out_of_order} out of order, {slow} closed 4008",
        delivered_in_window as f64 / window,
        drained.as_secs_f64(),
        expected.saturating_sub(total)
    );
    match stats::latency(latencies) {
        Some(l) => println!(
            "latency (event at -> frame received): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} frames",
            l.p50_ms, l.p99_ms, l.max_ms, l.samples
        ),
        None => println!("latency: no frames received"),
    }
    Ok(())
}

/// Waits until every expected frame arrived or nothing arrived for 3 s.
async fn drain(live: &sockets::Live, expected: u64) -> Duration {
    let start = Instant::now();
    let (mut last, mut since_progress) = (live.delivered.load(Ordering::Relaxed), Instant::now());
    loop {
        let now = live.delivered.load(Ordering::Relaxed);
        if now >= expected || since_progress.elapsed() > Duration::from_secs(3) {
            return start.elapsed();
        }
        if now != last {
            (last, since_progress) = (now, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Socket `i` belongs to user `i % users`.
fn sockets_of(user: usize, sockets: usize, users: usize) -> u64 {
    (sockets / users + usize::from(user < sockets % users)) as u64
}

fn metric(text: &str, name: &str) -> Option<i64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
}
