//! wa-sessions: what N real whatsapp-rust sessions cost inside wahub.
//!
//! Runs wa-peer (the offline WhatsApp server and phone) in a child process on
//! loopback, and wahub in this process with the `whatsapp` engine pointed at it.
//! Links N sessions (each a QR scanned by its own phone through the peer's control
//! API), waits `--settle-seconds`, then reports this process's RSS per connected
//! session, its idle CPU over `--idle-seconds`, and how long a restart takes to
//! restore every session. Every figure is printed with the load average.
//!
//! `cargo run -p wahub-bench --release --bin wa-sessions -- --sessions 100`

mod peer_process;

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::stream::{self, StreamExt};
use serde_json::{json, Value};
use wahub_tests::{spawn_app_with, TestApp, TestUser};

use peer_process::PeerProcess;

struct Args {
    sessions: usize,
    idle_seconds: u64,
    settle_seconds: u64,
    parallel: usize,
    /// `restore_concurrency` for the restart (default: wahub's own).
    restore_concurrency: Option<u32>,
}

const USAGE: &str = "usage: wa-sessions [--sessions N] [--idle-seconds S] [--settle-seconds S] [--parallel P] [--restore-concurrency C]";

fn parse_args() -> anyhow::Result<Args> {
    let mut args =
        Args { sessions: 100, idle_seconds: 30, settle_seconds: 20, parallel: 16, restore_concurrency: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == peer_process::PEER_FLAG {
            return Err(anyhow::anyhow!(peer_process::PEER_FLAG));
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let n: u64 = value.parse().with_context(|| format!("{flag}: not a number"))?;
        match flag.as_str() {
            "--sessions" => args.sessions = n as usize,
            "--idle-seconds" => args.idle_seconds = n,
            "--settle-seconds" => args.settle_seconds = n,
            "--parallel" => args.parallel = n.max(1) as usize,
            "--restore-concurrency" => args.restore_concurrency = Some(n.clamp(1, u64::from(u32::MAX)) as u32),
            _ => bail!(USAGE),
        }
    }
    Ok(args)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// User + system CPU time of this process, in clock ticks.
fn cpu_ticks() -> u64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let f: Vec<&str> = after.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0)
}

fn configure(ws_url: String, n: usize, restore: Option<u32>) -> impl FnOnce(&mut wahub::config::Settings) {
    move |s| {
        let production = wahub::config::Settings::default();
        s.sessions.engine = wahub::domain::EngineKind::Whatsapp;
        s.sessions.whatsapp_ws_url = Some(ws_url);
        s.sessions.whatsapp_app_version = Some("2.3000.1000000000".into());
        s.sessions.max_sessions_per_user = n as u64 + 1;
        s.server.log_format = wahub::config::LogFormat::Json;
        // Linking thousands outlasts the default 15 min token the bench polls with.
        s.auth.access_token_ttl_secs = 24 * 3600;
        // Production polling, not the test harness's fast one, so idle CPU is honest.
        s.webhooks.webhook_poll_ms = production.webhooks.webhook_poll_ms;
        s.sessions.reconnect_base_ms = production.sessions.reconnect_base_ms;
        s.sessions.reconnect_max_ms = production.sessions.reconnect_max_ms;
        s.sessions.reconnect_max_attempts = production.sessions.reconnect_max_attempts;
        s.sessions.restore_concurrency = restore.unwrap_or(production.sessions.restore_concurrency);
    }
}

async fn connected_count(app: &TestApp, user: &TestUser) -> usize {
    let r = app.get("/api/v1/sessions", &user.token).await;
    let list: Value = r.json().await.unwrap_or(Value::Null);
    list.as_array().map(|a| a.iter().filter(|s| s["status"] == "connected").count()).unwrap_or(0)
}

async fn wait_all_connected(app: &TestApp, user: &TestUser, n: usize, limit: Duration) -> anyhow::Result<Duration> {
    let started = Instant::now();
    loop {
        let c = connected_count(app, user).await;
        if c == n {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            bail!("only {c} of {n} sessions connected within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn link_one(app: &TestApp, user: &TestUser, peer: &PeerProcess, i: usize) -> anyhow::Result<()> {
    let phone = format!("1555{:07}", i);
    peer.add_phone(&phone).await?;
    let r = app.post("/api/v1/sessions", &user.token, json!({"name": format!("s{i}"), "start": true})).await;
    let s: Value = r.json().await?;
    let sid = s["id"].as_str().context("session id")?.to_owned();
    let deadline = Instant::now() + Duration::from_secs(120);
    let qr = loop {
        let r = app.get(&format!("/api/v1/sessions/{sid}/qr"), &user.token).await;
        if r.status() == 200 {
            break r.json::<Value>().await?["value"].as_str().context("qr")?.to_owned();
        }
        if Instant::now() > deadline {
            bail!("session {i} showed no QR");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    peer.scan(&phone, &qr).await
}

async fn run(args: Args) -> anyhow::Result<()> {
    let peer = PeerProcess::start().await?;
    let n = args.sessions;
    let config = || configure(peer.ws_url.clone(), n, args.restore_concurrency);
    let app = spawn_app_with(config()).await;
    let user = app.register("bench@example.com").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = rss_kib();
    println!("wahub up: RSS {rss_before} KiB (load {})", loadavg());

    let started = Instant::now();
    let results: Vec<anyhow::Result<()>> =
        stream::iter(0..n).map(|i| link_one(&app, &user, &peer, i)).buffer_unordered(args.parallel).collect().await;
    let failures: Vec<String> = results.into_iter().filter_map(|r| r.err().map(|e| format!("{e:#}"))).collect();
    if !failures.is_empty() {
        bail!("{} of {n} links failed, first: {}", failures.len(), failures[0]);
    }
    let limit = Duration::from_secs(300.max(n as u64 / 5));
    wait_all_connected(&app, &user, n, limit).await?;
    let linked_in = started.elapsed();
    println!(
        "sessions: {n} linked and connected in {:.1} s ({:.2} sessions/s; load {})",
        linked_in.as_secs_f64(),
        n as f64 / linked_in.as_secs_f64(),
        loadavg()
    );
    tokio::time::sleep(Duration::from_secs(args.settle_seconds)).await;
    let rss_connected = rss_kib();
    let per = |after: u64| (after.saturating_sub(rss_before)) as f64 / n as f64;
    println!(
        "RSS: {rss_before} KiB before, {rss_connected} KiB connected ({:.0} KiB per connected session; load {})",
        per(rss_connected),
        loadavg()
    );

    let ticks_per_sec = 100.0; // USER_HZ on Linux
    let t0 = cpu_ticks();
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let idle_cpu = (cpu_ticks() - t0) as f64 / ticks_per_sec / args.idle_seconds as f64 * 100.0;
    let still = connected_count(&app, &user).await;
    println!(
        "idle CPU over {} s (after {} s settling): {idle_cpu:.1} % of one core, {:.2} CPU-ms per session per minute; {still} of {n} still connected (load {})",
        args.idle_seconds,
        args.settle_seconds,
        idle_cpu / 100.0 * 60_000.0 / n as f64,
        loadavg()
    );

    let restart_at = Instant::now();
    let app = app.restart_with(config()).await;
    let serving_in = restart_at.elapsed();
    wait_all_connected(&app, &user, n, limit).await?;
    let restored_in = restart_at.elapsed();
    println!(
        "restart: serving again {:.2} s after the restart began, all {n} connected (login, no QR) after {:.2} s (restore_concurrency {}; load {})",
        serving_in.as_secs_f64(),
        restored_in.as_secs_f64(),
        app.settings.sessions.restore_concurrency,
        loadavg()
    );
    tokio::time::sleep(Duration::from_secs(args.settle_seconds)).await;
    let rss_restored = rss_kib();
    println!(
        "RSS after restore: {rss_restored} KiB ({:.0} KiB per session over the first server's baseline; load {})",
        per(rss_restored),
        loadavg()
    );
    app.stop().await;
    peer.stop().await;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    match parse_args() {
        Err(e) if e.to_string() == peer_process::PEER_FLAG => rt.block_on(peer_process::serve_peer()),
        Err(e) => Err(e),
        Ok(args) => rt.block_on(run(args)),
    }
}
