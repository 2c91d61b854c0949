//! A real HTTP server on 127.0.0.1:0 that records what it is sent and answers from a
//! script: tell it to fail the next N requests, or to answer slowly.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One request as received, with the status it was answered.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Lower-case names.
    pub headers: HashMap<String, String>,
    pub body: String,
    /// The body as bytes (for binary payloads such as OTLP protobuf).
    pub raw_body: Vec<u8>,
    pub answered: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str).unwrap_or("")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("body is JSON")
    }
}

#[derive(Default)]
struct Script {
    /// Statuses for the next requests; then 200.
    next: VecDeque<u16>,
    delay: Duration,
    seen: Vec<Received>,
    /// Requests being answered right now, and the most there ever were at once.
    in_flight: usize,
    max_in_flight: usize,
}

pub struct Receiver {
    pub url: String,
    script: Arc<Mutex<Script>>,
    task: JoinHandle<()>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind receiver");
        let addr = listener.local_addr().expect("receiver addr");
        let script = Arc::new(Mutex::new(Script::default()));
        let shared = script.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        Receiver { url: format!("http://{addr}/hook"), script, task }
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.script.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Answer the next `n` requests with `status`.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.script().next.extend(std::iter::repeat_n(status, n));
    }

    /// Wait this long before answering every request from now on.
    pub fn set_delay(&self, delay: Duration) {
        self.script().delay = delay;
    }

    /// The most requests this receiver was answering at the same time.
    pub fn max_in_flight(&self) -> usize {
        self.script().max_in_flight
    }

    pub fn requests(&self) -> Vec<Received> {
        self.script().seen.clone()
    }

    /// Waits until at least `n` requests arrived and returns them all.
    pub async fn wait_for(&self, n: usize, secs: u64) -> Vec<Received> {
        super::eventually(secs, &format!("{n} webhook requests"), || async {
            let seen = self.requests();
            (seen.len() >= n).then_some(seen)
        })
        .await
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, script: Arc<Mutex<Script>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        // Keep-alive: several requests may come over one connection.
        let head_end = loop {
            if let Some(pos) = find(&buf, b"\r\n\r\n") {
                break pos;
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_owned();
        let path = first.next().unwrap_or("").to_owned();
        let headers: HashMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let len: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let body_start = head_end + 4;
        while buf.len() < body_start + len {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let raw_body = buf[body_start..body_start + len].to_vec();
        let body = String::from_utf8_lossy(&raw_body).into_owned();
        buf.drain(..body_start + len);
        let (status, delay) = {
            let mut s = script.lock().unwrap_or_else(|p| p.into_inner());
            s.in_flight += 1;
            s.max_in_flight = s.max_in_flight.max(s.in_flight);
            (s.next.pop_front().unwrap_or(200), s.delay)
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        // Recorded after the delay: a request the client gave up on still counts.
        {
            let mut s = script.lock().unwrap_or_else(|p| p.into_inner());
            s.in_flight -= 1;
            s.seen.push(Received { method, path, headers, body, raw_body, answered: status });
        }
        let reply = format!("HTTP/1.1 {status} X\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok");
        if stream.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
