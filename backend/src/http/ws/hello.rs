//! The first frame of a connection: where the log stands and a snapshot of sessions.

use uuid::Uuid;

use crate::error::Problem;
use crate::http::AppState;
use crate::sessions::types::SessionOut;

pub(super) struct Hello {
    pub frame: String,
    /// The user's last sequence number when the snapshot was taken.
    pub last: i64,
    /// Replay `since+1..=last` right after the hello.
    pub replay_since: Option<i64>,
}

/// Call only after subscribing, so that every event above `last` arrives live.
pub(super) async fn build(state: &AppState, user_id: Uuid, since: Option<i64>) -> Result<Hello, Problem> {
    let last = state.events.last_seq(user_id).await?;
    let replay_since = match since {
        Some(since) if state.events.can_replay(user_id, since, last).await? => Some(since),
        _ => None,
    };
    let sessions = crate::sessions::service::list(&state.db, user_id).await?;
    let qr: serde_json::Map<String, serde_json::Value> = state
        .sessions
        .qrs_anywhere(&sessions)
        .await?
        .into_iter()
        .map(|(id, qr)| (id.to_string(), serde_json::to_value(qr).unwrap_or_default()))
        .collect();
    let sessions: Vec<SessionOut> = state.sessions.views(sessions).await?;
    let frame = serde_json::json!({
        "type": "hello",
        "seq": last,
        "resumed": replay_since.is_some(),
        "sessions": sessions,
        "qr": qr,
    })
    .to_string();
    Ok(Hello { frame, last, replay_since })
}
