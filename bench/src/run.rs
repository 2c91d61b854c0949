//! One measured run against one server: set up users, open the sockets, drive the load,
//! drain, and collect the figures.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::{watch, Semaphore};
use tokio::time::Instant;

use crate::args::Args;
use crate::server::Server;
use crate::stats::{latency, Latency};
use crate::{load, procfs, setup, sockets};

/// Everything one run measured.
pub struct Figures {
    pub target: &'static str,
    pub database: &'static str,
    pub sockets_opened: u64,
    pub sockets_held: u64,
    pub failed_sockets: u64,
    pub first_failure: Option<String>,
    pub rss_before_kib: Option<u64>,
    pub rss_idle_kib: Option<u64>,
    pub rss_loaded_kib: Option<u64>,
    pub window_s: f64,
    pub published: u64,
    pub failed_requests: u64,
    pub server_published: i64,
    pub server_slow_closes: i64,
    pub delivered_in_window: u64,
    pub delivered_total: u64,
    pub expected: u64,
    pub drain_s: f64,
    pub out_of_order: u64,
    pub closed_4008: u64,
    /// Event `at` -> frame received.
    pub server_latency: Option<Latency>,
    /// Client POST sent -> frame received.
    pub end_to_end: Option<Latency>,
    /// CPU time of the server from the start of the load to the end of the drain.
    pub server_cpu: Option<procfs::CpuTime>,
    /// CPU seconds of the PostgreSQL backends over the same span (PostgreSQL only).
    pub database_cpu_s: Option<f64>,
    /// CPU time of this client (its sockets and request loops) over the same span.
    pub client_cpu: Option<procfs::CpuTime>,
    /// Server context switches (all threads) over the same span.
    pub server_switches: Option<u64>,
    pub load_before: Option<[f64; 3]>,
    pub load_after: Option<[f64; 3]>,
}

impl Figures {
    pub fn published_per_s(&self) -> f64 {
        self.published as f64 / self.window_s
    }

    pub fn delivered_per_s(&self) -> f64 {
        self.delivered_in_window as f64 / self.window_s
    }

    pub fn missing(&self) -> u64 {
        self.expected.saturating_sub(self.delivered_total)
    }

    pub fn rss_per_socket_kib(&self) -> Option<f64> {
        let (before, idle) = (self.rss_before_kib?, self.rss_idle_kib?);
        Some(idle.saturating_sub(before) as f64 / self.sockets_opened.max(1) as f64)
    }

    /// Server CPU seconds (with its PostgreSQL backends) per million delivered frames
    /// (load and drain together).
    pub fn cpu_s_per_million(&self) -> Option<f64> {
        let cpu = self.server_cpu?.total() + self.database_cpu_s.unwrap_or(0.0);
        self.per_million_delivered(cpu)
    }

    /// The part of the server's own CPU spent in the kernel, per million delivered frames.
    pub fn kernel_cpu_s_per_million(&self) -> Option<f64> {
        self.per_million_delivered(self.server_cpu?.system)
    }

    /// The bench client's CPU per million delivered frames: on one machine, what the
    /// client takes is not left for the server.
    pub fn client_cpu_s_per_million(&self) -> Option<f64> {
        self.per_million_delivered(self.client_cpu?.total())
    }

    fn per_million_delivered(&self, cpu_s: f64) -> Option<f64> {
        (self.delivered_total > 0).then(|| cpu_s * 1e6 / self.delivered_total as f64)
    }

    pub fn switches_per_publish(&self) -> Option<f64> {
        let n = self.server_switches?;
        (self.published > 0).then(|| n as f64 / self.published as f64)
    }
}

pub async fn run(args: &Args, server: &Server) -> anyhow::Result<Figures> {
    let load_before = procfs::load_average();
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.drivers + 16).build()?;
    let started = Instant::now();
    let users = Arc::new(setup::users(&client, &server.base, args.users).await.context("setting up users")?);
    println!("setup: {} users with a connected sim session in {:.1} s", users.len(), started.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before_kib = server.rss_kib();

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
    let sockets_opened = live.connected.load(Ordering::Relaxed);
    println!("opened: {sockets_opened} / {} sockets in {:.1} s", args.sockets, opening.elapsed().as_secs_f64());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle_kib = server.rss_kib();

    let (cpu0, client_cpu0, switches0) =
        (server.cpu_time(), procfs::cpu_time(std::process::id()), server.context_switches());
    let db_cpu0 = server.database_cpu().await;
    let d0 = live.delivered.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let until = t0 + Duration::from_secs(args.seconds);
    let counts = load::drive(client.clone(), server.base.clone(), users.clone(), args.drivers, args.rate, until).await;
    let window_s = t0.elapsed().as_secs_f64();
    let delivered_in_window = live.delivered.load(Ordering::Relaxed) - d0;
    let sockets_held = live.connected.load(Ordering::Relaxed);
    let expected: u64 =
        counts.per_user.iter().enumerate().map(|(u, n)| n * sockets_of(u, args.sockets, args.users)).sum();
    let drain_s = drain(&live, d0 + expected).await.as_secs_f64();
    let (cpu1, client_cpu1, switches1) =
        (server.cpu_time(), procfs::cpu_time(std::process::id()), server.context_switches());
    let db_cpu1 = server.database_cpu().await;
    let rss_loaded_kib = server.rss_kib();
    let metrics = client.get(format!("{}/metrics", server.base)).send().await?.text().await?;
    let _ = stop_tx.send(true);

    let (mut server_us, mut e2e_us) = (Vec::new(), Vec::new());
    let (mut delivered_total, mut out_of_order, mut closed_4008, mut failed_sockets) = (0u64, 0u64, 0u64, 0u64);
    let mut first_failure = None;
    for h in handles {
        let r = h.await.unwrap_or_default();
        delivered_total += r.events;
        out_of_order += r.out_of_order;
        closed_4008 += u64::from(r.close_code == Some(4008));
        if let Some(e) = r.failed {
            failed_sockets += 1;
            first_failure.get_or_insert(e);
        }
        server_us.extend(r.latency_us);
        e2e_us.extend(r.end_to_end_us);
    }
    Ok(Figures {
        target: server.target.name(),
        database: server.database,
        sockets_opened,
        sockets_held,
        failed_sockets,
        first_failure,
        rss_before_kib,
        rss_idle_kib,
        rss_loaded_kib,
        window_s,
        published: counts.ok,
        failed_requests: counts.failed,
        server_published: metric(&metrics, "wahub_events_published_total").unwrap_or(-1),
        server_slow_closes: metric(&metrics, "wahub_ws_slow_closes_total").unwrap_or(-1),
        delivered_in_window,
        delivered_total,
        expected,
        drain_s,
        out_of_order,
        closed_4008,
        server_latency: latency(server_us),
        end_to_end: latency(e2e_us),
        server_cpu: cpu1.zip(cpu0).map(|(a, b)| a - b),
        database_cpu_s: db_cpu1.zip(db_cpu0).map(|(after, before)| crate::pg::cpu_between(&before, &after)),
        client_cpu: client_cpu1.zip(client_cpu0).map(|(a, b)| a - b),
        server_switches: switches1.zip(switches0).map(|(a, b)| a.saturating_sub(b)),
        load_before,
        load_after: procfs::load_average(),
    })
}

/// Waits until `target` frames have arrived in all or nothing arrived for 3 s.
async fn drain(live: &sockets::Live, target: u64) -> Duration {
    let start = Instant::now();
    let (mut last, mut since_progress) = (live.delivered.load(Ordering::Relaxed), Instant::now());
    loop {
        let now = live.delivered.load(Ordering::Relaxed);
        if now >= target || since_progress.elapsed() > Duration::from_secs(3) {
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
