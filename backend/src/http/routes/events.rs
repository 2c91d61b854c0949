//! GET /api/v1/events: the event log over REST.

use std::sync::Arc;

use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi};

use crate::error::Problem;
use crate::http::ApiTags;
use crate::http::AppState;
use crate::http::{scope, Auth};

pub struct EventsApi {
    pub state: Arc<AppState>,
}

#[derive(Debug, Object)]
#[oai(rename = "Event")]
pub struct EventOut {
    #[oai(rename = "type")]
    pub kind: String,
    pub seq: i64,
    pub event: String,
    pub session_id: Option<uuid::Uuid>,
    pub at: crate::domain::Timestamp,
    pub data: serde_json::Value,
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Events")]
impl EventsApi {
    /// Read the event log
    ///
    /// Events after `since` (oldest first), the same frames the WebSocket sends.
    #[oai(path = "/events", method = "get", operation_id = "listEvents")]
    async fn list(
        &self,
        auth: Auth<scope::Read>,
        #[oai(validator(minimum(value = "0")))] since: Query<Option<i64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "1000")))] limit: Query<Option<u64>>,
    ) -> Result<Json<Vec<EventOut>>, Problem> {
        let events = self.state.events.after(auth.id(), since.0.unwrap_or(0), limit.0.unwrap_or(100)).await?;
        Ok(Json(
            events
                .into_iter()
                .map(|e| EventOut {
                    kind: "event".into(),
                    seq: e.seq,
                    event: e.event,
                    session_id: e.session_id,
                    at: e.at.into(),
                    data: e.data,
                })
                .collect(),
        ))
    }
}
