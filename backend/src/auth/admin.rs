//! What an admin may change about a user: role, disabled, and per-user limits.

use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use super::AuthService;
use crate::db::entities::{session, user};
use crate::error::Problem;

/// A validated change; `None` leaves a field alone, `Some(None)` clears a limit override.
#[derive(Debug, Default)]
pub struct UserChange {
    pub role: Option<&'static str>,
    pub disabled: Option<bool>,
    pub max_sessions: Option<Option<u32>>,
    pub daily_message_limit: Option<Option<u32>>,
}

/// What the change did, for the audit log.
#[derive(Debug, Default)]
pub struct Changed {
    pub role: Option<(String, String)>,
    pub disabled: Option<bool>,
    pub limits: bool,
}

/// Every user, oldest first, with their session counts.
pub async fn list(auth: &AuthService) -> Result<Vec<(user::Model, u64)>, Problem> {
    let users = user::Entity::find().order_by_asc(user::Column::CreatedAt).all(&auth.db).await?;
    let counts: Vec<(Uuid, i64)> = session::Entity::find()
        .select_only()
        .column(session::Column::UserId)
        .column_as(Expr::col(session::Column::Id).count(), "n")
        .group_by(session::Column::UserId)
        .into_tuple()
        .all(&auth.db)
        .await?;
    let counts: HashMap<Uuid, i64> = counts.into_iter().collect();
    Ok(users
        .into_iter()
        .map(|u| {
            let n = counts.get(&u.id).copied().unwrap_or(0).max(0) as u64;
            (u, n)
        })
        .collect())
}

pub async fn session_count(auth: &AuthService, user_id: Uuid) -> Result<u64, Problem> {
    Ok(session::Entity::find().filter(session::Column::UserId.eq(user_id)).count(&auth.db).await?)
}

/// Applies `change` to user `id`. The last enabled admin can neither be demoted nor disabled,
/// so the server always keeps someone who can undo a mistake.
pub async fn update(auth: &AuthService, id: Uuid, change: UserChange) -> Result<(user::Model, Changed), Problem> {
    let found = user::Entity::find_by_id(id).one(&auth.db).await?.ok_or_else(|| Problem::not_found("No such user."))?;
    let loses_admin = found.role == "admin"
        && !found.disabled
        && (change.role.is_some_and(|r| r != "admin") || change.disabled == Some(true));
    if loses_admin {
        let other_admins = user::Entity::find()
            .filter(user::Column::Role.eq("admin"))
            .filter(user::Column::Disabled.eq(false))
            .filter(user::Column::Id.ne(id))
            .count(&auth.db)
            .await?;
        if other_admins == 0 {
            return Err(Problem::conflict("last_admin", "The last enabled admin cannot be demoted or disabled."));
        }
    }
    let mut done = Changed::default();
    let mut row: user::ActiveModel = found.clone().into();
    if let Some(role) = change.role.filter(|r| *r != found.role) {
        done.role = Some((found.role.clone(), role.to_owned()));
        row.role = Set(role.to_owned());
    }
    if let Some(disabled) = change.disabled.filter(|d| *d != found.disabled) {
        done.disabled = Some(disabled);
        row.disabled = Set(disabled);
    }
    if let Some(limit) = change.max_sessions {
        done.limits = true;
        row.max_sessions = Set(limit.map(|n| n as i32));
    }
    if let Some(limit) = change.daily_message_limit {
        done.limits = true;
        row.daily_message_limit = Set(limit.map(|n| n as i32));
    }
    let updated = row.update(&auth.db).await?;
    auth.credentials_changed(id);
    if done.disabled == Some(true) {
        // Refresh tokens die for good; keys and access tokens fail while disabled.
        super::refresh::revoke_all(auth, id).await?;
    }
    Ok((updated, done))
}
