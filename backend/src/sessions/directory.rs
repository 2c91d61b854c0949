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
    /// The node running the session in cluster mode; `null` on a single node.
    pub node: Option<String>,
}

/// All sessions (or one user's), oldest first.
pub async fn list_all(db: &DatabaseConnection, owner: Option<Uuid>) -> Result<Vec<AdminSessionOut>, Problem> {
    let mut q = session::Entity::find();
    if let Some(owner) = owner {
        q = q.filter(session::Column::UserId.eq(owner));
    }
    let rows = q.order_by_asc(session::Column::CreatedAt).order_by_asc(session::Column::Id).all(db).await?;
    let emails: HashMap<Uuid, String> =
        user::Entity::find().all(db).await?.into_iter().map(|u| (u.id, u.email)).collect();
    Ok(rows
        .into_iter()
        .map(|row| AdminSessionOut {
            owner_id: row.user_id,
            owner_email: emails.get(&row.user_id).cloned().unwrap_or_default(),
            node: None,
            session: row.into(),
        })
        .collect())
}

pub async fn find(db: &DatabaseConnection, id: Uuid) -> Result<session::Model, Problem> {
    session::Entity::find_by_id(id).one(db).await?.ok_or_else(|| Problem::not_found("No such session."))
}
