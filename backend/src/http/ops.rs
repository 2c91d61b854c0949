//! /healthz, /readyz and /metrics.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, IntoResponse, Response};

use super::AppState;
use crate::error::Problem;

#[handler]
pub async fn healthz() -> Response {
    poem::web::Json(serde_json::json!({ "status": "ok" })).into_response()
}

#[handler]
pub async fn readyz(state: Data<&Arc<AppState>>) -> Response {
    if crate::db::ping(&state.db).await {
        poem::web::Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        Problem::unavailable("The database is not reachable.").into_response()
    }
}

#[handler]
pub async fn metrics(state: Data<&Arc<AppState>>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/plain; version=0.0.4")
        .body(crate::metrics::render(state.sessions.live_count()))
}
