//! Request and response bodies of the session endpoints.

use poem_openapi::{Enum, Object};
use serde::Serialize;
use uuid::Uuid;

use crate::db::entities::session;
use crate::domain::Status;

/// A linked (or linkable) WhatsApp account.
#[derive(Debug, Clone, Object, Serialize)]
#[oai(rename = "Session")]
pub struct SessionOut {
    pub id: Uuid,
    pub name: String,
    pub status: Status,
    pub status_reason: Option<String>,
    pub is_primary: bool,
    pub phone: Option<String>,
    pub push_name: Option<String>,
    pub auth_paired: bool,
    pub socket_open: bool,
    pub qr_expires_at: Option<crate::domain::Timestamp>,
    pub created_at: crate::domain::Timestamp,
    pub updated_at: crate::domain::Timestamp,
    pub last_connected_at: Option<crate::domain::Timestamp>,
    pub last_disconnected_at: Option<crate::domain::Timestamp>,
    pub last_activity_at: Option<crate::domain::Timestamp>,
    pub engine: String,
    /// The node running the session in cluster mode; `null` on a single node or when no node runs it.
    pub node: Option<String>,
}

impl From<session::Model> for SessionOut {
    fn from(s: session::Model) -> Self {
        Self {
            id: s.id,
            name: s.name,
            status: Status::parse(&s.status).unwrap_or(Status::Stopped),
            status_reason: s.status_reason,
            is_primary: s.is_primary,
            phone: s.phone,
            push_name: s.push_name,
            auth_paired: s.auth_paired,
            socket_open: s.socket_open,
            qr_expires_at: s.qr_expires_at.map(Into::into),
            created_at: s.created_at.into(),
            updated_at: s.updated_at.into(),
            last_connected_at: s.last_connected_at.map(Into::into),
            last_disconnected_at: s.last_disconnected_at.map(Into::into),
            last_activity_at: s.last_activity_at.map(Into::into),
            engine: s.engine,
            node: None,
        }
    }
}

/// The `data` of a `session.status` event.
#[derive(Debug, Serialize)]
pub struct StatusChange<'a> {
    pub status: Status,
    pub previous: Status,
    pub reason: Option<&'a str>,
    pub auth_paired: bool,
    pub socket_open: bool,
    pub phone: Option<&'a str>,
    pub push_name: Option<&'a str>,
}

impl StatusChange<'_> {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }
}

/// The QR code on offer.
#[derive(Debug, Clone, Object, Serialize, serde::Deserialize, PartialEq)]
#[oai(rename = "Qr")]
pub struct QrOut {
    pub value: String,
    pub expires_at: crate::domain::Timestamp,
    pub attempt: u32,
    pub max_attempts: u32,
}

#[derive(Debug, Clone, Object, Serialize)]
pub struct PairCodeOut {
    pub code: String,
    pub expires_at: crate::domain::Timestamp,
}

#[derive(Debug, Object)]
pub struct CreateSessionRequest {
    pub name: crate::domain::Text,
    pub phone: Option<crate::domain::Text>,
    /// Start pairing right away (default true).
    pub start: Option<bool>,
}

#[derive(Debug, Object)]
pub struct RenameSessionRequest {
    pub name: crate::domain::Text,
}

#[derive(Debug, Object, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StartRequest {
    /// Wipe stored credentials and pair afresh.
    pub force_relink: Option<bool>,
}

#[derive(Debug, Object)]
pub struct PhoneRequest {
    pub phone: crate::domain::Text,
}

/// `pair-code` refuses what is not a phone number; `phone/check` answers `valid: false`.
#[derive(Debug, Object)]
pub struct PairCodeRequest {
    pub phone: crate::domain::Text,
}

#[derive(Debug, Object)]
pub struct PhoneCheckOut {
    pub phone: String,
    pub valid: bool,
    pub in_use: bool,
}

#[derive(Debug, Clone, Copy, Enum, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum QrFormat {
    Json,
    Svg,
    Png,
}
