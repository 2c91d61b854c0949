//! GET /api/v1/ws: the live event stream.
//!
//! Per connection a reader (client frames) and a writer (hello, replay, live events,
//! pings) run side by side; when either ends, both end. A client too slow for its
//! user's event rate lags its broadcast receiver and is closed with 4008 rather than
//! buffering without bound; it reconnects with `since` and loses nothing.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use poem::web::websocket::{CloseCode, Message, WebSocket, WebSocketStream};
use poem::web::{Data, Query};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::Event;
use crate::api::Problem;
use crate::auth::extract::{user_from_access_token, user_from_api_key};
use crate::sessions::types::SessionOut;
use crate::state::AppState;

pub const CLOSE_TOO_SLOW: u16 = 4008;
pub const CLOSE_TOKEN_EXPIRED: u16 = 4401;
const SEND_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
pub struct WsParams {
    token: Option<String>,
    api_key: Option<String>,
    since: Option<String>,
}

#[handler]
pub async fn ws_handler(
    state: Data<&Arc<AppState>>,
    Query(params): Query<WsParams>,
    ws: WebSocket,
) -> Response {
    let state = state.0.clone();
    let since = match params.since.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(s)) if s >= 0 => Some(s),
        Some(_) => return Problem::validation("since must be a non-negative integer.").into_response(),
    };
    let (user, expires_at) = match (&params.token, &params.api_key) {
        (Some(token), _) => match user_from_access_token(&state, token).await {
            Ok(Some(user)) => (user, state.jwt.verify(token).map(|c| c.exp)),
            Ok(None) => return unauthorized(),
            Err(p) => return p.into_response(),
        },
        (None, Some(key)) => match user_from_api_key(&state, key).await {
            Ok(Some(user)) => (user, None),
            Ok(None) => return unauthorized(),
            Err(p) => return p.into_response(),
        },
        (None, None) => return unauthorized(),
    };
    ws.on_upgrade(move |socket| async move {
        crate::api::metrics::WS_CONNECTIONS.inc();
        serve(state, socket, user.id, since, expires_at).await;
        crate::api::metrics::WS_CONNECTIONS.dec();
    })
    .into_response()
}

fn unauthorized() -> Response {
    Problem::unauthorized("unauthorized", "A valid token or api_key query parameter is required.").into_response()
}

async fn serve(state: Arc<AppState>, socket: WebSocketStream, user_id: Uuid, since: Option<i64>, expires_at: Option<i64>) {
    let (mut sink, mut stream) = socket.split();
    let (pong_tx, mut pong_rx) = mpsc::channel::<()>(8);

    let reader = async move {
        while let Some(Ok(msg)) = stream.next().await {
            match msg {
                Message::Text(text) => {
                    let is_ping = serde_json::from_str::<serde_json::Value>(&text)
                        .ok()
                        .is_some_and(|v| v.get("type").and_then(|t| t.as_str()) == Some("ping"));
                    if is_ping && pong_tx.send(()).await.is_err() {
                        break;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
    };

    let writer = async move {
        // Subscribe before reading the log so nothing falls between replay and live.
        let mut live = state.events.subscribe(user_id);
        let (hello, backlog) = match hello(&state, user_id, since).await {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(error = %e, "cannot build hello");
                let _ = sink.send(Message::Close(Some((CloseCode::Error, "internal error".into())))).await;
                return;
            }
        };
        let mut last_sent = hello.get("seq").and_then(|s| s.as_i64()).unwrap_or(0);
        if send_json(&mut sink, &hello).await.is_err() {
            return;
        }
        for ev in backlog {
            if send_json(&mut sink, &frame(&ev)).await.is_err() {
                return;
            }
        }
        let ping_every = Duration::from_secs(state.settings.ws_ping_secs.max(1));
        let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        let expiry = expires_at.map(|exp| {
            let left = exp - chrono::Utc::now().timestamp();
            tokio::time::Instant::now() + Duration::from_secs(left.max(0) as u64)
        });
        loop {
            tokio::select! {
                ev = live.recv() => match ev {
                    Ok(ev) => {
                        if ev.seq <= last_sent {
                            continue;
                        }
                        last_sent = ev.seq;
                        if send_json(&mut sink, &frame(&ev)).await.is_err() {
                            return;
                        }
                    }
                    Err(RecvError::Lagged(_)) => {
                        crate::api::metrics::WS_SLOW_CLOSES.inc();
                        let reason = "too slow: reconnect with since";
                        let _ = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some((CloseCode::from(CLOSE_TOO_SLOW), reason.into()))))).await;
                        return;
                    }
                    Err(RecvError::Closed) => return,
                },
                Some(()) = pong_rx.recv() => {
                    if send_json(&mut sink, &serde_json::json!({"type": "pong"})).await.is_err() {
                        return;
                    }
                }
                _ = ping.tick() => {
                    if tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Ping(Vec::new()))).await.map_or(true, |r| r.is_err()) {
                        return;
                    }
                }
                _ = sleep_opt(expiry) => {
                    let _ = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some((CloseCode::from(CLOSE_TOKEN_EXPIRED), "token expired".into()))))).await;
                    return;
                }
            }
        }
    };

    tokio::select! {
        _ = reader => {}
        _ = writer => {}
    }
}

async fn sleep_opt(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

async fn send_json<S>(sink: &mut S, value: &serde_json::Value) -> Result<(), ()>
where
    S: futures_util::Sink<Message> + Unpin,
{
    match tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Text(value.to_string()))).await {
        Ok(Ok(())) => {
            crate::api::metrics::WS_FRAMES_SENT.inc();
            Ok(())
        }
        _ => Err(()),
    }
}

pub fn frame(ev: &Event) -> serde_json::Value {
    serde_json::json!({
        "type": "event",
        "seq": ev.seq,
        "event": ev.event,
        "session_id": ev.session_id,
        "at": ev.at,
        "data": ev.data,
    })
}

/// The hello frame, plus the events to replay after it when `since` was given.
async fn hello(state: &AppState, user_id: Uuid, since: Option<i64>) -> Result<(serde_json::Value, Vec<Event>), Problem> {
    let last = state.events.last_seq(user_id).await?;
    let (resumed, backlog) = match since {
        Some(since) => {
            let replay = state.events.replay(user_id, since, last).await?;
            if replay.complete {
                (true, replay.events)
            } else {
                (false, Vec::new())
            }
        }
        None => (false, Vec::new()),
    };
    let sessions = crate::sessions::service::list(&state.db, user_id).await?;
    let qrs = state.sessions.qrs(sessions.iter().map(|s| s.id));
    let sessions: Vec<SessionOut> = sessions.into_iter().map(Into::into).collect();
    let qr: serde_json::Map<String, serde_json::Value> = qrs
        .into_iter()
        .map(|(id, qr)| (id.to_string(), serde_json::to_value(qr).unwrap_or_default()))
        .collect();
    let hello = serde_json::json!({
        "type": "hello",
        "seq": last,
        "resumed": resumed,
        "sessions": sessions,
        "qr": qr,
    });
    Ok((hello, backlog))
}
