//! Every session on the server with its owner, for the admin screens.

use std::collections::HashMap;

use poem_openapi::Object;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::types::SessionOut;
use crate::db::entities::{session, user};
use crate::error::Problem;

#[derive(Debug, Object)]
#[oai(rename = "AdminSession")]
pub struct AdminSessionOut {
    #[oai(flatten)]
    pub session: SessionOut,
    pub owner_id: Uuid,
    pub owner_email: String,
}

/// All sessions (or one user's), oldest first.
pub async fn list_all(
    db: &DatabaseConnection,
    sessions: &super::SessionManager,
    owner: Option<Uuid>,
) -> Result<Vec<AdminSessionOut>, Problem> {
    let mut q = session::Entity::find();
    if let Some(owner) = owner {
        q = q.filter(session::Column::UserId.eq(owner));
    }
    let rows = q.order_by_asc(session::Column::CreatedAt).order_by_asc(session::Column::Id).all(db).await?;
    let emails: HashMap<Uuid, String> =
        user::Entity::find().all(db).await?.into_iter().map(|u| (u.id, u.email)).collect();
    let owners: Vec<Uuid> = rows.iter().map(|r| r.user_id).collect();
    Ok(sessions
        .views(rows)
        .await?
        .into_iter()
        .zip(owners)
        .map(|(session, owner_id)| AdminSessionOut {
            owner_id,
            owner_email: emails.get(&owner_id).cloned().unwrap_or_default(),
            session,
        })
        .collect())
}

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<session::Model, Problem> {
    session::Entity::find_by_id(id).one(db).await?.ok_or_else(|| Problem::not_found("No such session."))
}
