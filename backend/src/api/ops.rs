//! /healthz, /readyz and /metrics.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, IntoResponse, Response};

use crate::state::AppState;

#[handler]
pub async fn healthz() -> Response {
    poem::web::Json(serde_json::json!({ "status": "ok" })).into_response()
}

#[handler]
pub async fn readyz(state: Data<&Arc<AppState>>) -> Response {
    if crate::db::ping(&state.db).await {
        poem::web::Json(serde_json::json!({ "status": "ready" })).into_response()
    } else {
        super::Problem::unavailable("The database is not reachable.").into_response()
    }
}

#[handler]
pub async fn metrics(state: Data<&Arc<AppState>>) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/plain; version=0.0.4")
        .body(super::metrics::render(state.sessions.live_count()))
}
