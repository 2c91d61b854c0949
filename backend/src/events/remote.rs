//! Cluster fan-out: every event frame is published after commit to `<prefix>.u.<user_id>`,
//! and a node subscribes to the subjects of the users with sockets on it.
//!
//! NATS is only a fast path: the log in the database is the truth. Publishing never blocks
//! the event's writer (a full queue drops the frame), and receivers put frames back in
//! seq order, filling any hole from the database (see `EventHub::deliver`).

use std::sync::Arc;

use async_nats::{Client, Subscriber};
use futures_util::StreamExt;
use serde::Deserialize;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Event;

/// Frames waiting for the NATS client; beyond this they are dropped (receivers fill the gap).
const OUTBOX: usize = 16_384;

pub struct Remote {
    client: Client,
    prefix: String,
    outbox: mpsc::Sender<(String, String)>,
}

impl Remote {
    pub fn new(client: Client, prefix: String) -> Self {
        let (outbox, mut queued) = mpsc::channel::<(String, String)>(OUTBOX);
        let publisher = client.clone();
        tokio::spawn(async move {
            while let Some((subject, frame)) = queued.recv().await {
                if let Err(e) = publisher.publish(subject, frame.into()).await {
                    tracing::debug!(error = %e, "NATS publish failed; receivers fill the gap");
                }
            }
        });
        Self { client, prefix, outbox }
    }

    fn subject(&self, user_id: Uuid) -> String {
        format!("{}.u.{}", self.prefix, user_id)
    }

    /// Queues the event's frame for every node subscribed to its user.
    pub(super) fn publish(&self, ev: &Event) {
        if self.outbox.try_send((self.subject(ev.user_id), ev.frame().to_string())).is_err() {
            crate::metrics::FANOUT_DROPPED.inc();
        }
    }

    /// Subscribes to one user's events; returns once the server has registered it, so
    /// every event committed after this returns is received (or its hole noticed).
    pub(super) async fn subscribe(&self, user_id: Uuid) -> anyhow::Result<Subscriber> {
        let sub = self.client.subscribe(self.subject(user_id)).await?;
        self.client.flush().await?;
        Ok(sub)
    }
}

#[derive(Deserialize)]
struct Frame {
    seq: i64,
    event: String,
    session_id: Option<Uuid>,
    at: chrono::DateTime<chrono::Utc>,
    data: serde_json::Value,
}

/// The event a received frame carries; `None` for anything that is not one of ours.
pub(super) fn parse(user_id: Uuid, payload: &[u8]) -> Option<Event> {
    let f: Frame = serde_json::from_slice(payload).ok()?;
    let frame: Arc<str> = std::str::from_utf8(payload).ok()?.into();
    Some(Event::with_frame(user_id, f.seq, f.event, f.session_id, f.at, f.data, frame))
}

/// Frames of one user as they arrive.
pub(super) async fn next(sub: &mut Subscriber, user_id: Uuid) -> Option<Option<Event>> {
    let msg = sub.next().await?;
    Some(parse(user_id, &msg.payload))
}
