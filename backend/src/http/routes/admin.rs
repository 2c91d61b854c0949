//! /api/v1/admin/*: users, every session, the audit log. Admins only; 404 to anyone else.

use std::collections::HashMap;
use std::sync::Arc;

use poem::web::RemoteAddr;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::OpenApi;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::ip::client_ip;
use crate::auth::admin::{self, UserChange};
use crate::auth::admin_types::*;
use crate::auth::audit::{self, Action, Entry};
use crate::db::entities::user;
use crate::error::Problem;
use crate::http::{scope, ApiTags, AppState, Auth};
use crate::sessions::directory::{self, AdminSessionOut};
use crate::sessions::machine::Input;

pub struct AdminApi {
    pub state: Arc<AppState>,
}

fn change_of(body: UpdateUserRequest) -> UserChange {
    let limit = |m: MaybeUndefined<u32>| match m {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(n) => Some(Some(n)),
    };
    UserChange {
        role: body.role.map(RoleName::as_str),
        disabled: body.disabled,
        max_sessions: limit(body.max_sessions),
        daily_message_limit: limit(body.daily_message_limit),
    }
}

impl AdminApi {
    fn user_out(&self, u: user::Model, sessions: u64) -> AdminUserOut {
        let s = &self.state.settings.sessions;
        AdminUserOut::new(u, sessions, s.max_sessions_per_user, s.daily_message_limit)
    }

    async fn session_action(
        &self,
        auth: &Auth<scope::Admin>,
        ip: String,
        id: Uuid,
        input: Input,
        action: Action,
    ) -> Result<Json<AdminSessionOut>, Problem> {
        let row = directory::find(&self.state.db, id).await?;
        self.state.sessions.apply(&row, input).await?;
        let entry = Entry::new(action, Some(auth.id()), Some(ip)).target("session", row.id);
        audit::record(&self.state.db, entry.detail(serde_json::json!({ "owner_id": row.user_id, "name": row.name })))
            .await;
        let mut fresh = directory::list_all(&self.state.db, &self.state.sessions, Some(row.user_id)).await?;
        let at = fresh.iter().position(|s| s.session.id == id).ok_or_else(|| Problem::not_found("No such session."))?;
        Ok(Json(fresh.swap_remove(at)))
    }
}

#[OpenApi(prefix_path = "/api/v1/admin", tag = "ApiTags::Admin")]
impl AdminApi {
    /// List users
    ///
    /// Every user with their session count, role and limits. Admins only.
    #[oai(path = "/users", method = "get", operation_id = "adminListUsers")]
    async fn users(&self, _auth: Auth<scope::Admin>) -> Result<Json<Vec<AdminUserOut>>, Problem> {
        let rows = admin::list(&self.state.auth).await?;
        Ok(Json(rows.into_iter().map(|(u, n)| self.user_out(u, n)).collect()))
    }

    /// Update a user
    ///
    /// Change a user's role, disable or enable them, or set their limits. Disabling ends their tokens, API
    /// keys and open WebSockets at once. Admins only.
    #[oai(path = "/users/:id", method = "patch", operation_id = "adminUpdateUser")]
    async fn update_user(
        &self,
        auth: Auth<scope::Admin>,
        addr: &RemoteAddr,
        id: Path<Uuid>,
        body: Json<UpdateUserRequest>,
    ) -> Result<Json<AdminUserOut>, Problem> {
        let (updated, done) = admin::update(&self.state.auth, id.0, change_of(body.0)).await?;
        let ip = client_ip(addr);
        let entry = |action| Entry::new(action, Some(auth.id()), Some(ip.clone())).target("user", id.0);
        if let Some((from, to)) = &done.role {
            audit::record(
                &self.state.db,
                entry(Action::RoleChanged).detail(serde_json::json!({"from": from, "to": to})),
            )
            .await;
        }
        match done.disabled {
            Some(true) => audit::record(&self.state.db, entry(Action::UserDisabled)).await,
            Some(false) => audit::record(&self.state.db, entry(Action::UserEnabled)).await,
            None => {}
        }
        if done.limits {
            let detail = serde_json::json!({
                "max_sessions": updated.max_sessions,
                "daily_message_limit": updated.daily_message_limit,
            });
            audit::record(&self.state.db, entry(Action::LimitsChanged).detail(detail)).await;
        }
        let sessions = admin::session_count(&self.state.auth, id.0).await?;
        Ok(Json(self.user_out(updated, sessions)))
    }

    /// List every session
    ///
    /// Every session on the server with its owner, status and node. Admins only.
    #[oai(path = "/sessions", method = "get", operation_id = "adminListSessions")]
    async fn sessions(
        &self,
        _auth: Auth<scope::Admin>,
        /// Only this user's sessions.
        user_id: Query<Option<Uuid>>,
    ) -> Result<Json<Vec<AdminSessionOut>>, Problem> {
        Ok(Json(directory::list_all(&self.state.db, &self.state.sessions, user_id.0).await?))
    }

    /// Stop any session
    ///
    /// Stop any user's session, keeping its credentials. Admins only.
    #[oai(path = "/sessions/:id/stop", method = "post", operation_id = "adminStopSession")]
    async fn stop_session(
        &self,
        auth: Auth<scope::Admin>,
        addr: &RemoteAddr,
        id: Path<Uuid>,
    ) -> Result<Json<AdminSessionOut>, Problem> {
        self.session_action(&auth, client_ip(addr), id.0, Input::Stop, Action::AdminSessionStopped).await
    }

    /// Log out any session
    ///
    /// Log out any user's session: unlink the device and wipe its credentials. Admins only.
    #[oai(path = "/sessions/:id/logout", method = "post", operation_id = "adminLogoutSession")]
    async fn logout_session(
        &self,
        auth: Auth<scope::Admin>,
        addr: &RemoteAddr,
        id: Path<Uuid>,
    ) -> Result<Json<AdminSessionOut>, Problem> {
        self.session_action(&auth, client_ip(addr), id.0, Input::Logout, Action::AdminSessionLoggedOut).await
    }

    /// Read the audit log
    ///
    /// The audit log, newest first. Page with `before` = the previous page's `next_before`. Admins only.
    #[oai(path = "/audit", method = "get", operation_id = "adminListAudit")]
    async fn audit(
        &self,
        _auth: Auth<scope::Admin>,
        #[oai(validator(minimum(value = "1")))] before: Query<Option<i64>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))] limit: Query<Option<u64>>,
    ) -> Result<Json<AuditPage>, Problem> {
        let limit = limit.0.unwrap_or(50);
        let rows = audit::page(&self.state.db, before.0, limit).await?;
        let actor_ids: Vec<Uuid> = rows.iter().filter_map(|r| r.actor_id).collect();
        let emails: HashMap<Uuid, String> = if actor_ids.is_empty() {
            HashMap::new()
        } else {
            user::Entity::find()
                .filter(user::Column::Id.is_in(actor_ids))
                .all(&self.state.db)
                .await?
                .into_iter()
                .map(|u| (u.id, u.email))
                .collect()
        };
        let next_before = if rows.len() as u64 == limit { rows.last().map(|r| r.id) } else { None };
        let items = rows
            .into_iter()
            .map(|r| {
                let email = r.actor_id.and_then(|id| emails.get(&id).cloned());
                AuditEntryOut::new(r, email)
            })
            .collect();
        Ok(Json(AuditPage { items, next_before }))
    }
}
