//! The audit log: who did what security-relevant thing to what, when, from where.
//!
//! A failed audit write is logged and does not undo or refuse the action it records:
//! the action already happened (or, for a failed login, was already refused).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use crate::db::entities::audit_log;
use crate::error::Problem;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Register,
    Login,
    LoginFailed,
    ApiKeyCreated,
    ApiKeyDeleted,
    SessionDeleted,
    RoleChanged,
    UserDisabled,
    UserEnabled,
    LimitsChanged,
    AdminSessionStopped,
    AdminSessionLoggedOut,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Register => "auth.register",
            Action::Login => "auth.login",
            Action::LoginFailed => "auth.login_failed",
            Action::ApiKeyCreated => "api_key.created",
            Action::ApiKeyDeleted => "api_key.deleted",
            Action::SessionDeleted => "session.deleted",
            Action::RoleChanged => "admin.user_role_changed",
            Action::UserDisabled => "admin.user_disabled",
            Action::UserEnabled => "admin.user_enabled",
            Action::LimitsChanged => "admin.user_limits_changed",
            Action::AdminSessionStopped => "admin.session_stopped",
            Action::AdminSessionLoggedOut => "admin.session_logged_out",
        }
    }
}

/// One entry to write. Built with the helpers below, then `record`ed.
pub struct Entry {
    pub action: Action,
    pub actor_id: Option<Uuid>,
    pub actor_email: Option<String>,
    pub target: Option<(&'static str, String)>,
    pub ip: Option<String>,
    pub detail: Option<serde_json::Value>,
}

impl Entry {
    pub fn new(action: Action, actor_id: Option<Uuid>, ip: Option<String>) -> Self {
        Self { action, actor_id, actor_email: None, target: None, ip, detail: None }
    }

    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.actor_email = Some(email.into());
        self
    }

    pub fn target(mut self, kind: &'static str, id: impl ToString) -> Self {
        self.target = Some((kind, id.to_string()));
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = Some(detail);
        self
    }
}

pub async fn record(db: &DatabaseConnection, entry: Entry) {
    let (target_type, target_id) = entry.target.map_or((None, None), |(k, id)| (Some(k.to_owned()), Some(id)));
    let row = audit_log::ActiveModel {
        created_at: Set(Utc::now()),
        actor_id: Set(entry.actor_id),
        actor_email: Set(entry.actor_email),
        action: Set(entry.action.as_str().to_owned()),
        target_type: Set(target_type),
        target_id: Set(target_id),
        ip: Set(entry.ip),
        detail: Set(entry.detail.map(|d| d.to_string())),
        ..Default::default()
    };
    if let Err(e) = row.insert(db).await {
        tracing::error!(error = %e, action = entry.action.as_str(), "cannot write audit entry");
    }
}

/// Entries newest first, older than `before` (an entry id) when given.
pub async fn page(db: &DatabaseConnection, before: Option<i64>, limit: u64) -> Result<Vec<audit_log::Model>, Problem> {
    let mut q = audit_log::Entity::find();
    if let Some(before) = before {
        q = q.filter(audit_log::Column::Id.lt(before));
    }
    Ok(q.order_by_desc(audit_log::Column::Id).limit(limit).all(db).await?)
}
