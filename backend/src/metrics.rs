//! Prometheus metrics, rendered as text at /metrics. Names follow Prometheus
//! conventions: a `wahub_` prefix, base units in the name (`_seconds`), `_total` on
//! counters. docs/metrics.md lists them; docs/grafana-dashboard.json charts them.

mod histogram;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

pub use histogram::{Histogram, LATENCY_BUCKETS};

pub struct Counter(AtomicI64);

impl Counter {
    const fn new() -> Self {
        Self(AtomicI64::new(0))
    }
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn add(&self, n: i64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    pub fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
    pub fn set(&self, n: i64) {
        self.0.store(n, Ordering::Relaxed);
    }
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

pub static EVENTS_PUBLISHED: Counter = Counter::new();
pub static EVENT_BATCHES: Counter = Counter::new();
pub static WS_CONNECTIONS: Counter = Counter::new();
pub static WS_FRAMES_SENT: Counter = Counter::new();
pub static WS_SLOW_CLOSES: Counter = Counter::new();
pub static HTTP_REQUESTS: Counter = Counter::new();
pub static WEBHOOK_DELIVERIES: Counter = Counter::new();
pub static WEBHOOK_FAILURES: Counter = Counter::new();
pub static SESSION_PERSIST_FAILURES: Counter = Counter::new();
pub static FANOUT_DROPPED: Counter = Counter::new();
pub static FANOUT_GAP_FILLS: Counter = Counter::new();

pub static FENCED_WRITES: Counter = Counter::new();
pub static SQLITE_CHECKPOINTS: Counter = Counter::new();
pub static SQLITE_WAL_PAGES: Counter = Counter::new();

pub static HTTP_REQUEST_DURATION: Histogram = Histogram::new(LATENCY_BUCKETS);
pub static EVENT_PUBLISH_DURATION: Histogram = Histogram::new(LATENCY_BUCKETS);

/// Methods outside this list share one label value, so a client cannot grow the series.
const METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Records one answered HTTP request; labelled by method and status class (`2xx`).
pub fn observe_http(method: &str, status: u16, took: Duration) {
    let method = METHODS.iter().find(|m| **m == method).copied().unwrap_or("other");
    let class = match status {
        100..=599 => status / 100,
        _ => 0,
    };
    HTTP_REQUEST_DURATION.observe(&format!("method=\"{method}\",status=\"{class}xx\""), took);
}

/// What /metrics reports that is read at scrape time, not counted as it happens.
pub struct Snapshot<'a> {
    /// Session tasks running on this node.
    pub live_sessions: usize,
    /// Sessions in the database by status (every status, zeros included).
    pub sessions_by_status: &'a [(&'a str, i64)],
}

pub fn render(now: &Snapshot<'_>) -> String {
    let rows: [(&str, &str, &str, i64); 15] = [
        ("wahub_http_requests_total", "counter", "HTTP requests served", HTTP_REQUESTS.get()),
        ("wahub_events_published_total", "counter", "Events appended to user logs", EVENTS_PUBLISHED.get()),
        ("wahub_event_batches_total", "counter", "Transactions that stored a batch of events", EVENT_BATCHES.get()),
        ("wahub_ws_connections", "gauge", "Open WebSocket connections", WS_CONNECTIONS.get()),
        ("wahub_ws_frames_sent_total", "counter", "WebSocket frames sent", WS_FRAMES_SENT.get()),
        ("wahub_ws_slow_closes_total", "counter", "WebSockets closed with 4008 for lagging", WS_SLOW_CLOSES.get()),
        ("wahub_webhook_deliveries_total", "counter", "Webhook deliveries acknowledged", WEBHOOK_DELIVERIES.get()),
        ("wahub_webhook_failures_total", "counter", "Webhook delivery attempts that failed", WEBHOOK_FAILURES.get()),
        ("wahub_session_tasks", "gauge", "Session tasks alive on this node", now.live_sessions as i64),
        (
            "wahub_session_persist_failures_total",
            "counter",
            "Session transitions that could not be recorded",
            SESSION_PERSIST_FAILURES.get(),
        ),
        (
            "wahub_fanout_dropped_total",
            "counter",
            "Event frames not published to NATS (queue full); receivers fill them from the log",
            FANOUT_DROPPED.get(),
        ),
        (
            "wahub_fanout_gap_fills_total",
            "counter",
            "Events a node read from the log because NATS did not bring them in order",
            FANOUT_GAP_FILLS.get(),
        ),
        (
            "wahub_fenced_writes_total",
            "counter",
            "Session writes refused because this node lost the session's lease",
            FENCED_WRITES.get(),
        ),
        (
            "wahub_sqlite_checkpoints_total",
            "counter",
            "Background WAL checkpoints of the SQLite database",
            SQLITE_CHECKPOINTS.get(),
        ),
        (
            "wahub_sqlite_wal_pages",
            "gauge",
            "SQLite WAL pages not yet copied into the database file after the last checkpoint",
            SQLITE_WAL_PAGES.get(),
        ),
    ];
    let mut out = String::new();
    for (name, kind, help, value) in rows {
        let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
    }
    let name = "wahub_sessions";
    let _ = write!(out, "# HELP {name} Sessions in the database by status (cluster-wide)\n# TYPE {name} gauge\n");
    for (status, count) in now.sessions_by_status {
        let _ = writeln!(out, "{name}{{status=\"{status}\"}} {count}");
    }
    HTTP_REQUEST_DURATION.render(
        "wahub_http_request_duration_seconds",
        "Time to answer an HTTP request, by method and status class",
        &mut out,
    );
    EVENT_PUBLISH_DURATION.render(
        "wahub_event_publish_duration_seconds",
        "Time to append an event to its log (the database transaction) and push it live",
        &mut out,
    );
    let _ = write!(
        out,
        "# HELP wahub_build_info The running version\n# TYPE wahub_build_info gauge\nwahub_build_info{{version=\"{}\"}} 1\n",
        env!("CARGO_PKG_VERSION")
    );
    out
}
