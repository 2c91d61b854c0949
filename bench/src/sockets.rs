//! The client side: N WebSockets, each timing and checking every event it receives.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use futures_util::StreamExt;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

use crate::frame::{event_stamp, now_ns};

#[derive(Default)]
pub struct SocketReport {
    pub events: u64,
    /// Receive time minus the event's `at`, in microseconds.
    pub latency_us: Vec<u32>,
    /// Receive time minus the client's send time of the request, in microseconds.
    pub end_to_end_us: Vec<u32>,
    /// Frames whose seq was not the previous one plus one.
    pub out_of_order: u64,
    pub close_code: Option<u16>,
    pub failed: Option<String>,
}

/// Shared live counters.
#[derive(Default)]
pub struct Live {
    pub connected: AtomicU64,
    pub delivered: AtomicU64,
}

pub fn open(
    url: String,
    live: Arc<Live>,
    gate: Arc<Semaphore>,
    stop: watch::Receiver<bool>,
) -> JoinHandle<SocketReport> {
    tokio::spawn(async move {
        match run(&url, &live, &gate, stop).await {
            Ok(report) => report,
            Err(e) => SocketReport { failed: Some(format!("{e:#}")), ..Default::default() },
        }
    })
}

async fn run(
    url: &str,
    live: &Live,
    gate: &Semaphore,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<SocketReport> {
    let permit = gate.acquire().await?;
    let config = WebSocketConfig::default().read_buffer_size(8 * 1024).write_buffer_size(0);
    let (mut ws, _) = tokio::time::timeout(
        Duration::from_secs(30),
        tokio_tungstenite::connect_async_with_config(url, Some(config), false),
    )
    .await
    .context("connect timed out")??;
    let mut last_seq = match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
        Ok(Some(Ok(Message::Text(hello)))) => hello_seq(&hello).context("hello without seq")?,
        other => bail!("no hello: {other:?}"),
    };
    drop(permit);
    live.connected.fetch_add(1, Ordering::Relaxed);
    let mut report = SocketReport::default();
    loop {
        let msg = tokio::select! {
            msg = ws.next() => msg,
            _ = stop.changed() => break,
        };
        match msg {
            Some(Ok(Message::Text(text))) => {
                let Some(stamp) = event_stamp(&text) else { continue };
                let now = now_ns();
                report.latency_us.push(micros(now - stamp.at_ns));
                if let Some(sent) = stamp.sent_ns {
                    report.end_to_end_us.push(micros(now - sent));
                }
                report.events += 1;
                live.delivered.fetch_add(1, Ordering::Relaxed);
                if stamp.seq != last_seq + 1 {
                    report.out_of_order += 1;
                }
                last_seq = stamp.seq;
            }
            Some(Ok(Message::Close(frame))) => {
                report.close_code = frame.map(|f| u16::from(f.code));
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                report.failed = Some(e.to_string());
                break;
            }
            None => break,
        }
    }
    live.connected.fetch_sub(1, Ordering::Relaxed);
    let _ = ws.close(None).await;
    Ok(report)
}

fn micros(ns: i128) -> u32 {
    (ns.max(0) / 1_000).min(u32::MAX as i128) as u32
}

fn hello_seq(text: &str) -> Option<i64> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    (v["type"] == "hello").then(|| v["seq"].as_i64())?
}
