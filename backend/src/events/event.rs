//! One entry of a user's event log, with its WebSocket frame serialized once.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::db::entities::event;

/// One event as stored and as sent to clients.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(skip)]
    pub user_id: Uuid,
    pub seq: i64,
    pub event: String,
    pub session_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub data: serde_json::Value,
    /// The `{"type":"event",...}` text frame; built once and shared by every socket.
    #[serde(skip)]
    frame: Arc<str>,
    /// The generation of the user's webhooks when the event was stored (0 when unknown).
    #[serde(skip)]
    pub webhooks_gen: i64,
}

#[derive(Serialize)]
struct Frame<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seq: i64,
    event: &'a str,
    session_id: Option<Uuid>,
    at: crate::domain::Timestamp,
    data: &'a serde_json::Value,
}

impl Event {
    pub fn new(
        user_id: Uuid,
        seq: i64,
        event: String,
        session_id: Option<Uuid>,
        at: DateTime<Utc>,
        data: serde_json::Value,
    ) -> Self {
        let frame = Frame { kind: "event", seq, event: &event, session_id, at: at.into(), data: &data };
        // Serializing plain JSON values and strings cannot fail.
        let frame: Arc<str> = serde_json::to_string(&frame).unwrap_or_default().into();
        Self::with_frame(user_id, seq, event, session_id, at, data, frame)
    }

    /// An event received as its frame (from another node): the text is kept as is.
    pub(super) fn with_frame(
        user_id: Uuid,
        seq: i64,
        event: String,
        session_id: Option<Uuid>,
        at: DateTime<Utc>,
        data: serde_json::Value,
        frame: Arc<str>,
    ) -> Self {
        Self { user_id, seq, event, session_id, at, data, frame, webhooks_gen: 0 }
    }

    pub(super) fn from_row(row: event::Model) -> Self {
        let data = serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null);
        Self::new(row.user_id, row.seq, row.event, row.session_id, row.created_at, data)
    }

    /// The WebSocket text frame for this event.
    pub fn frame(&self) -> &Arc<str> {
        &self.frame
    }
}
