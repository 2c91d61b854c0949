//! Prometheus counters and gauges, rendered as text at /metrics.

use std::sync::atomic::{AtomicI64, Ordering};

pub struct Counter(AtomicI64);

impl Counter {
    const fn new() -> Self {
        Self(AtomicI64::new(0))
    }
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
    pub fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

pub static EVENTS_PUBLISHED: Counter = Counter::new();
pub static WS_CONNECTIONS: Counter = Counter::new();
pub static WS_FRAMES_SENT: Counter = Counter::new();
pub static WS_SLOW_CLOSES: Counter = Counter::new();
pub static HTTP_REQUESTS: Counter = Counter::new();
pub static WEBHOOK_DELIVERIES: Counter = Counter::new();
pub static WEBHOOK_FAILURES: Counter = Counter::new();
pub static SESSION_PERSIST_FAILURES: Counter = Counter::new();
pub static FANOUT_DROPPED: Counter = Counter::new();
pub static FANOUT_GAP_FILLS: Counter = Counter::new();

pub fn render(live_sessions: usize) -> String {
    let rows: [(&str, &str, &str, i64); 11] = [
        ("wahub_http_requests_total", "counter", "HTTP requests served", HTTP_REQUESTS.get()),
        ("wahub_events_published_total", "counter", "Events appended to user logs", EVENTS_PUBLISHED.get()),
        ("wahub_ws_connections", "gauge", "Open WebSocket connections", WS_CONNECTIONS.get()),
        ("wahub_ws_frames_sent_total", "counter", "WebSocket frames sent", WS_FRAMES_SENT.get()),
        ("wahub_ws_slow_closes_total", "counter", "WebSockets closed with 4008 for lagging", WS_SLOW_CLOSES.get()),
        ("wahub_webhook_deliveries_total", "counter", "Webhook deliveries acknowledged", WEBHOOK_DELIVERIES.get()),
        ("wahub_webhook_failures_total", "counter", "Webhook delivery attempts that failed", WEBHOOK_FAILURES.get()),
        ("wahub_session_tasks", "gauge", "Session tasks alive", live_sessions as i64),
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
    ];
    let mut out = String::new();
    for (name, kind, help, value) in rows {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n"));
    }
    out
}
