//! GET /api/v1/ws: authentication before the upgrade, then one connection task.

mod conn;
mod hello;
mod origin;
mod queue;

use std::sync::Arc;

use poem::web::websocket::{WebSocket, WebSocketConfig};
use poem::web::{Data, Query};
use poem::{handler, IntoResponse, Response};
use serde::Deserialize;

use super::AppState;
use crate::domain::Scope;
use crate::error::Problem;

pub use conn::{CLOSE_TOKEN_EXPIRED, CLOSE_TOO_SLOW};

/// Above this many bytes handed over and not yet flushed, the socket writes them anyway.
const WRITE_BUFFER: usize = 4 * 1024;

#[derive(Debug, Deserialize)]
pub struct WsParams {
    token: Option<String>,
    api_key: Option<String>,
    since: Option<String>,
}

/// Clients only send small control frames (pings): a read buffer sized for them keeps idle
/// sockets small (it is resident from the first read; a larger frame reserves its own room).
/// Frames handed to the socket collect in its write buffer until the writer flushes, which
/// it does once it has handed over everything waiting (`conn`): a burst of events leaves in
/// one write system call, a lone event at once.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(256)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(Some(64 * 1024))
        .max_frame_size(Some(64 * 1024))
}

#[handler]
pub async fn ws_handler(
    state: Data<&Arc<AppState>>,
    req: &poem::Request,
    Query(params): Query<WsParams>,
    ws: WebSocket,
) -> Response {
    let state = state.0.clone();
    if !origin::allowed(req.headers(), &state.settings.ws) {
        return Problem::forbidden("origin_not_allowed", "This page's origin may not open the event stream.")
            .into_response();
    }
    let since = match params.since.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(s)) if s >= 0 => Some(s),
        Some(_) => return Problem::validation("since must be a non-negative integer.").into_response(),
    };
    let credential = match (params.token, params.api_key) {
        (Some(token), _) => conn::Presented::AccessToken(token),
        (None, Some(key)) => conn::Presented::ApiKey(key),
        (None, None) => return unauthorized(),
    };
    let (user, expires_at) = match state.auth.authenticate(credential.as_credential()).await {
        Ok(Some(found)) => (found.user, found.expires_at),
        Ok(None) => return unauthorized(),
        Err(p) => return p.into_response(),
    };
    if let Err(p) = crate::http::extract::permit(&user, Scope::Read) {
        return p.into_response();
    }
    let conn = conn::Conn { user_id: user.id, since, expires_at, credential };
    ws.config(socket_config()).on_upgrade(move |socket| conn::serve(state, socket, conn)).into_response()
}

fn unauthorized() -> Response {
    Problem::unauthorized("unauthorized", "A valid token or api_key query parameter is required.").into_response()
}
