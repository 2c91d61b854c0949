//! /healthz, /readyz and /metrics.

use std::sync::Arc;

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, IntoResponse, Response};

use super::AppState;
use crate::db::entities::session;
use crate::domain::Status;
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
    let by_status = sessions_by_status(&state.db).await;
    let snapshot = crate::metrics::Snapshot {
        live_sessions: state.sessions.live_count(),
        sessions_by_status: &by_status.iter().map(|(s, n)| (s.as_str(), *n)).collect::<Vec<_>>(),
    };
    Response::builder()
        .status(StatusCode::OK)
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(crate::metrics::render(&snapshot))
}

/// Every status with its count (zeros included, so a status that empties reads 0, not
/// a gap); nothing when the database does not answer.
async fn sessions_by_status(db: &sea_orm::DatabaseConnection) -> Vec<(Status, i64)> {
    use sea_orm::{EntityTrait, QuerySelect};
    let counted: Result<Vec<(String, i64)>, _> = session::Entity::find()
        .select_only()
        .column(session::Column::Status)
        .column_as(sea_orm::sea_query::Expr::col(session::Column::Id).count(), "n")
        .group_by(session::Column::Status)
        .into_tuple()
        .all(db)
        .await;
    let Ok(counted) = counted else {
        return Vec::new();
    };
    ALL_STATUSES
        .iter()
        .map(|&s| (s, counted.iter().filter(|(name, _)| name == s.as_str()).map(|(_, n)| *n).sum()))
        .collect()
}

const ALL_STATUSES: [Status; 8] = [
    Status::Stopped,
    Status::Starting,
    Status::ScanQr,
    Status::Pairing,
    Status::Connected,
    Status::Reconnecting,
    Status::Failed,
    Status::LoggedOut,
];
