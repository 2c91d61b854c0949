//! Request and response bodies of the message endpoints.

use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::entities::message;

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct MediaIn {
    pub mimetype: crate::domain::Text,
    /// The file, base64-encoded. Either this or `url`.
    pub data_base64: Option<crate::domain::Text>,
    /// An http(s) URL wahub downloads when sending. Either this or `data_base64`.
    pub url: Option<crate::domain::Text>,
    pub filename: Option<crate::domain::Text>,
    pub caption: Option<crate::domain::Text>,
}

#[derive(Debug, Object)]
pub struct SendRequest {
    /// Defaults to the caller's primary session.
    pub session_id: Option<Uuid>,
    /// Phone number or JID of the recipient.
    pub to: crate::domain::Text,
    pub text: Option<crate::domain::Text>,
    pub media: Option<MediaIn>,
}

#[derive(Debug, Object)]
pub struct SendAccepted {
    pub id: Uuid,
    pub session_id: Uuid,
    pub status: String,
}

#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// Media as listed (without the file data).
#[derive(Debug, Clone, Object, Serialize)]
pub struct MediaOut {
    pub mimetype: String,
    pub filename: Option<String>,
    pub caption: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Message")]
pub struct MessageOut {
    pub id: Uuid,
    pub session_id: Uuid,
    /// `in` or `out`.
    pub direction: String,
    /// The other party: recipient of an `out` message, sender of an `in` message.
    pub peer: String,
    pub text: Option<String>,
    pub media: Option<MediaOut>,
    /// `queued`, `sent` (the server acknowledged it), `delivered`, `read`, `failed` (out)
    /// or `received` (in).
    pub status: String,
    pub error: Option<String>,
    pub external_id: Option<String>,
    pub created_at: crate::domain::Timestamp,
    pub updated_at: crate::domain::Timestamp,
}

impl From<message::Model> for MessageOut {
    fn from(m: message::Model) -> Self {
        let media =
            m.media.as_deref().and_then(|raw| serde_json::from_str::<MediaIn>(raw).ok()).map(|media| MediaOut {
                mimetype: media.mimetype.0,
                filename: media.filename.map(String::from),
                caption: media.caption.map(String::from),
                url: media.url.map(String::from),
            });
        Self {
            id: m.id,
            session_id: m.session_id,
            direction: m.direction,
            peer: m.peer,
            text: m.text,
            media,
            status: m.status,
            error: m.error,
            external_id: m.external_id,
            created_at: m.created_at.into(),
            updated_at: m.updated_at.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq, Serialize)]
#[oai(rename_all = "lowercase")]
#[serde(rename_all = "lowercase")]
pub enum HealthLevel {
    Healthy,
    Warning,
    Critical,
}

#[derive(Debug, Object)]
pub struct HealthOut {
    pub messages_sent_today: u64,
    pub messages_received_today: u64,
    pub daily_limit: u64,
    pub usage_percent: f64,
    pub level: HealthLevel,
    pub connected: bool,
}
