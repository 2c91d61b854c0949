//! Writing messages and announcing them.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::types::MessageOut;
use crate::db::entities::{message, session};
use crate::engine::Incoming;
use crate::events::EventHub;
use crate::events::TxnChange;

/// Where messages are written and announced.
#[derive(Clone)]
pub struct MessageStore {
    pub db: sea_orm::DatabaseConnection,
    pub hub: std::sync::Arc<EventHub>,
    /// The one client media URLs are downloaded with.
    pub media: std::sync::Arc<super::media::MediaFetcher>,
}

/// Stores a message that arrived and pushes `message.received`: the row, the session's
/// activity time and the event commit together.
pub async fn store_incoming(
    store: &MessageStore,
    session_id: Uuid,
    user_id: Uuid,
    msg: Incoming,
) -> Result<(), sea_orm::DbErr> {
    let now = Utc::now();
    let row = message::Model {
        id: Uuid::new_v4(),
        user_id,
        session_id,
        direction: "in".into(),
        peer: msg.from.as_str().to_owned(),
        text: msg.text,
        media: msg.media_mimetype.map(|mimetype| serde_json::json!({ "mimetype": mimetype }).to_string()),
        status: "received".into(),
        error: None,
        external_id: Some(msg.external_id),
        created_at: now,
        updated_at: now,
    };
    let data = serde_json::to_value(MessageOut::from(row.clone())).unwrap_or_default();
    let insert = message::ActiveModel {
        id: Set(row.id),
        user_id: Set(row.user_id),
        session_id: Set(row.session_id),
        direction: Set(row.direction),
        peer: Set(row.peer),
        text: Set(row.text),
        media: Set(row.media),
        status: Set(row.status),
        error: Set(row.error),
        external_id: Set(row.external_id),
        created_at: Set(row.created_at),
        updated_at: Set(row.updated_at),
    };
    let change: TxnChange = Box::new(move |txn| {
        Box::pin(async move {
            insert.insert(txn).await?;
            activity_update(session_id).exec(txn).await?;
            Ok(())
        })
    });
    store.hub.publish_with(user_id, "message.received", Some(session_id), data, Some(change)).await?;
    Ok(())
}

fn activity_update(session_id: Uuid) -> sea_orm::UpdateMany<session::Entity> {
    session::Entity::update_many()
        .col_expr(session::Column::LastActivityAt, Expr::value(Utc::now()))
        .filter(session::Column::Id.eq(session_id))
}

pub async fn touch_activity(store: &MessageStore, session_id: Uuid) -> Result<(), sea_orm::DbErr> {
    activity_update(session_id).exec(&store.db).await?;
    Ok(())
}

/// Sets an outgoing message's status and pushes `message.updated`.
pub async fn set_status(
    store: &MessageStore,
    user_id: Uuid,
    session_id: Uuid,
    id: Uuid,
    status: &str,
    error: Option<String>,
    external_id: Option<String>,
) -> Result<(), sea_orm::DbErr> {
    let mut update = message::Entity::update_many()
        .col_expr(message::Column::Status, Expr::value(status))
        .col_expr(message::Column::Error, Expr::value(error.clone()))
        .col_expr(message::Column::UpdatedAt, Expr::value(Utc::now()));
    if external_id.is_some() {
        update = update.col_expr(message::Column::ExternalId, Expr::value(external_id));
    }
    let update = update.filter(message::Column::Id.eq(id));
    let mut data = serde_json::json!({ "id": id, "status": status });
    if let Some(error) = error {
        data["error"] = serde_json::Value::String(error);
    }
    let change: TxnChange = Box::new(move |txn| Box::pin(async move { update.exec(txn).await.map(|_| ()) }));
    store.hub.publish_with(user_id, "message.updated", Some(session_id), data, Some(change)).await?;
    Ok(())
}

/// Fails the messages still queued on a session that can no longer send them
/// (it gave up reconnecting or was unlinked), each with a `message.updated`.
pub async fn fail_queued(
    store: &MessageStore,
    user_id: Uuid,
    session_id: Uuid,
    why: &str,
) -> Result<(), sea_orm::DbErr> {
    use sea_orm::QueryOrder;
    let queued = message::Entity::find()
        .filter(message::Column::SessionId.eq(session_id))
        .filter(message::Column::Direction.eq("out"))
        .filter(message::Column::Status.eq("queued"))
        .order_by_asc(message::Column::CreatedAt)
        .order_by_asc(message::Column::Id)
        .all(&store.db)
        .await?;
    for msg in queued {
        set_status(store, user_id, session_id, msg.id, "failed", Some(format!("session {why}")), None).await?;
    }
    Ok(())
}
