//! Request and response bodies of the admin endpoints about users and the audit log.

use poem_openapi::types::MaybeUndefined;
use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::db::entities::{audit_log, user};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum RoleName {
    Admin,
    User,
}

impl RoleName {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleName::Admin => "admin",
            RoleName::User => "user",
        }
    }
}

/// A user as an admin sees it.
#[derive(Debug, Object)]
#[oai(rename = "AdminUser")]
pub struct AdminUserOut {
    pub id: Uuid,
    pub email: String,
    pub display_name: Option<String>,
    pub role: String,
    pub disabled: bool,
    pub created_at: crate::domain::Timestamp,
    pub session_count: u64,
    /// Per-user override of the session limit; `null`: the server default applies.
    pub max_sessions: Option<u32>,
    /// Per-user override of the daily message limit per session; `null`: the server default.
    pub daily_message_limit: Option<u32>,
    /// The limits in force for this user (override or server default).
    pub effective_max_sessions: u64,
    pub effective_daily_message_limit: u64,
}

impl AdminUserOut {
    pub fn new(u: user::Model, session_count: u64, default_sessions: u64, default_daily: u64) -> Self {
        let max_sessions = u.max_sessions.map(|n| n.max(0) as u32);
        let daily_message_limit = u.daily_message_limit.map(|n| n.max(0) as u32);
        Self {
            id: u.id,
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            disabled: u.disabled,
            created_at: u.created_at.into(),
            session_count,
            max_sessions,
            daily_message_limit,
            effective_max_sessions: max_sessions.map_or(default_sessions, u64::from),
            effective_daily_message_limit: daily_message_limit.map_or(default_daily, u64::from),
        }
    }
}

/// Every field is optional; a limit set to `null` goes back to the server default.
#[derive(Debug, Object)]
pub struct UpdateUserRequest {
    pub role: Option<RoleName>,
    pub disabled: Option<bool>,
    #[oai(validator(maximum(value = "100000")))]
    pub max_sessions: MaybeUndefined<u32>,
    #[oai(validator(maximum(value = "10000000")))]
    pub daily_message_limit: MaybeUndefined<u32>,
}

#[derive(Debug, Object)]
#[oai(rename = "AuditEntry")]
pub struct AuditEntryOut {
    pub id: i64,
    pub at: crate::domain::Timestamp,
    pub action: String,
    pub actor_id: Option<Uuid>,
    /// The actor's email (for a failed login: the email that was tried).
    pub actor_email: Option<String>,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub detail: Option<serde_json::Value>,
}

impl AuditEntryOut {
    pub fn new(row: audit_log::Model, actor_email: Option<String>) -> Self {
        Self {
            id: row.id,
            at: row.created_at.into(),
            action: row.action,
            actor_id: row.actor_id,
            actor_email: row.actor_email.or(actor_email),
            target_type: row.target_type,
            target_id: row.target_id,
            ip: row.ip,
            detail: row.detail.and_then(|d| serde_json::from_str(&d).ok()),
        }
    }
}

#[derive(Debug, Object)]
pub struct AuditPage {
    pub items: Vec<AuditEntryOut>,
    /// Pass as `before` for the next (older) page; `null` at the end.
    pub next_before: Option<i64>,
}
