//! /api/v1/messages

use std::sync::Arc;

use chrono::{DateTime, Utc};
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::db::entities::message;
use crate::error::Problem;
use crate::http::parse_phone;
use crate::http::ApiTags;
use crate::http::AppState;
use crate::http::{scope, Auth};
use crate::messages::types::*;
use crate::messages::NewMessage;
use crate::sessions::service;

pub struct MessagesApi {
    pub state: Arc<AppState>,
}

#[derive(ApiResponse)]
enum Accepted {
    #[oai(status = 202)]
    Accepted(Json<SendAccepted>),
}

const MAX_TEXT_CHARS: usize = 65_536;

fn validate_media(media: &MediaIn) -> Result<(), Problem> {
    if media.mimetype.trim().is_empty() || !media.mimetype.contains('/') {
        return Err(Problem::validation("media.mimetype must be a MIME type such as image/png."));
    }
    match (&media.data_base64, &media.url) {
        (Some(_), Some(_)) | (None, None) => Err(Problem::validation("media needs exactly one of data_base64 or url.")),
        (Some(data), None) => {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map(|_| ())
                .map_err(|_| Problem::validation("media.data_base64 is not valid base64."))
        }
        (None, Some(url)) => match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(()),
            _ => Err(Problem::validation("media.url must be an http(s) URL.")),
        },
    }
}

#[OpenApi(prefix_path = "/api/v1", tag = "ApiTags::Messages")]
impl MessagesApi {
    /// Send a message
    ///
    /// Queue a message. Without `session_id` the primary session sends it.
    #[oai(path = "/messages", method = "post", operation_id = "sendMessage")]
    async fn send(&self, auth: Auth<scope::Send>, body: Json<SendRequest>) -> Result<Accepted, Problem> {
        let body = body.0;
        let to = parse_phone(&body.to)?;
        let text = body.text.map(String::from).filter(|t| !t.is_empty());
        if text.as_ref().is_some_and(|t| t.chars().count() > MAX_TEXT_CHARS) {
            return Err(Problem::validation("text is at most 65536 characters."));
        }
        if text.is_none() && body.media.is_none() {
            return Err(Problem::validation("A message needs text or media."));
        }
        if let Some(media) = &body.media {
            validate_media(media)?;
            if let Some(url) = &media.url {
                let policy = crate::net::TargetPolicy::from_settings(&self.state.settings);
                crate::net::public_target(policy, url).await?;
            }
        }
        let msg = NewMessage { session_id: body.session_id, to, text, media: body.media };
        let limit = super::sessions::daily_limit(&self.state, auth.user());
        let accepted = self.state.messages.queue(auth.id(), msg, limit).await?;
        self.state.sessions.flush(accepted.session_id).await;
        Ok(Accepted::Accepted(Json(accepted)))
    }

    /// List messages
    ///
    /// Messages sent and received, newest first.
    #[oai(path = "/messages", method = "get", operation_id = "listMessages")]
    async fn list(
        &self,
        auth: Auth<scope::Read>,
        session_id: Query<Option<Uuid>>,
        direction: Query<Option<Direction>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<u64>>,
        /// Only messages created before this time (for paging: pass the last `created_at`).
        before: Query<Option<DateTime<Utc>>>,
    ) -> Result<Json<Vec<MessageOut>>, Problem> {
        let mut q = message::Entity::find().filter(message::Column::UserId.eq(auth.id()));
        if let Some(sid) = session_id.0 {
            service::find_owned(&self.state.db, auth.id(), sid).await?;
            q = q.filter(message::Column::SessionId.eq(sid));
        }
        if let Some(d) = direction.0 {
            q = q.filter(message::Column::Direction.eq(d.as_str()));
        }
        if let Some(b) = before.0 {
            q = q.filter(message::Column::CreatedAt.lt(b));
        }
        let rows = q
            .order_by_desc(message::Column::CreatedAt)
            .order_by_desc(message::Column::Id)
            .limit(limit.0.unwrap_or(50))
            .all(&self.state.db)
            .await?;
        Ok(Json(rows.into_iter().map(Into::into).collect()))
    }
}
