//! A WebSocket client for the event stream.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub struct WsClient {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl WsClient {
    pub async fn connect(url: &str) -> Result<Self, tokio_tungstenite::tungstenite::Error> {
        let (stream, _) = tokio_tungstenite::connect_async(url).await?;
        Ok(Self { stream })
    }

    /// The HTTP status that refused the upgrade, or `None` when it succeeded.
    pub async fn refusal(url: &str) -> Option<u16> {
        match tokio_tungstenite::connect_async(url).await {
            Ok(_) => None,
            Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Some(resp.status().as_u16()),
            Err(e) => panic!("connect {url}: {e}"),
        }
    }

    /// Every JSON frame until the server closes, and the close code. Panics after `secs`.
    pub async fn drain_until_close(&mut self, secs: u64) -> (Vec<Value>, Option<u16>) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        let mut frames = Vec::new();
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => panic!("no close within {secs}s ({} frames read)", frames.len()),
                Ok(None) | Ok(Some(Err(_))) => return (frames, None),
                Ok(Some(Ok(msg))) => msg,
            };
            match msg {
                Message::Text(text) => frames.push(serde_json::from_str(&text).expect("frame is JSON")),
                Message::Close(frame) => return (frames, frame.map(|f| u16::from(f.code))),
                _ => {}
            }
        }
    }

    /// Waits for a WebSocket-level ping from the server.
    pub async fn next_ping(&mut self, secs: u64) -> bool {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(Message::Ping(_)))) => return true,
                Ok(Some(Ok(_))) => continue,
                _ => return false,
            }
        }
    }

    /// Closes politely and waits for the server's answer.
    pub async fn close(mut self) {
        let _ = self.stream.close(None).await;
        while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(5), self.stream.next()).await {}
    }

    /// The next JSON text frame (pings are skipped). Panics after `secs` seconds.
    pub async fn next_json_within(&mut self, secs: u64) -> Value {
        match self.try_next_json(Duration::from_secs(secs)).await {
            Ok(Some(v)) => v,
            Ok(None) => panic!("socket closed while waiting for a frame"),
            Err(close) => panic!("socket closed ({close:?}) while waiting for a frame"),
        }
    }

    pub async fn next_json(&mut self) -> Value {
        self.next_json_within(10).await
    }

    /// `Ok(None)` on timeout, `Err(close frame)` when the server closed.
    pub async fn try_next_json(&mut self, wait: Duration) -> Result<Option<Value>, Option<CloseFrame>> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let msg = match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err(None),
                Ok(Some(Err(_))) => return Err(None),
                Ok(Some(Ok(msg))) => msg,
            };
            match msg {
                Message::Text(text) => return Ok(Some(serde_json::from_str(&text).expect("frame is JSON"))),
                Message::Close(frame) => return Err(frame),
                _ => continue,
            }
        }
    }

    /// Skips frames until an event named `name` (for `session_id`, if given) arrives.
    pub async fn next_event(&mut self, name: &str, session_id: Option<&str>) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = match self.try_next_json(left).await {
                Ok(Some(frame)) => frame,
                other => panic!("no {name} event: {other:?}"),
            };
            if frame["type"] == "event"
                && frame["event"] == name
                && session_id.is_none_or(|id| frame["session_id"] == id)
            {
                return frame;
            }
        }
    }

    /// Waits for a `session.status` event with this status.
    pub async fn next_status(&mut self, session_id: &str, status: &str) -> Value {
        loop {
            let frame = self.next_event("session.status", Some(session_id)).await;
            if frame["data"]["status"] == status {
                return frame;
            }
        }
    }

    pub async fn send_json(&mut self, v: &Value) {
        self.stream.send(Message::Text(v.to_string().into())).await.expect("send frame");
    }

    /// Waits for the server to close; returns the close code.
    pub async fn close_code(&mut self, secs: u64) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
            }
        }
    }
}
