//! Writing messages and announcing them.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::types::MessageOut;
use crate::db::constraint::{violated, Unique};
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
    /// Serialises the daily-limit check and insert of each session's sends.
    pub send_locks: super::SendLocks,
}

impl MessageStore {
    pub fn new(
        db: sea_orm::DatabaseConnection,
        hub: std::sync::Arc<EventHub>,
        media: std::sync::Arc<super::media::MediaFetcher>,
    ) -> Self {
        Self { db, hub, send_locks: super::SendLocks::default(), media }
    }
}

/// What became of an incoming message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    New,
    /// The network delivered it again; the first copy stands, nothing is announced.
    Duplicate,
}

/// Stores a message that arrived and pushes `message.received`: the row, the session's
/// activity time and the event commit together. A message already stored (same network
/// id on the same session) is dropped quietly. Only then is it acknowledged to the
/// network: a failure leaves it unacknowledged, so the network delivers it again.
pub async fn store_incoming(
    store: &MessageStore,
    session_id: Uuid,
    user_id: Uuid,
    msg: Incoming,
) -> Result<Stored, sea_orm::DbErr> {
    let ack = msg.ack.clone();
    let stored = insert_incoming(store, session_id, user_id, msg).await?;
    ack.fire();
    Ok(stored)
}

async fn insert_incoming(
    store: &MessageStore,
    session_id: Uuid,
    user_id: Uuid,
    msg: Incoming,
) -> Result<Stored, sea_orm::DbErr> {
    // No look-up first: the unique index refuses a copy inside the event's transaction (its
    // savepoint fails alone), which saves a round trip per message on the hot path.
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
    match store.hub.publish_with(user_id, "message.received", Some(session_id), data, Some(change)).await {
        Ok(_) => Ok(Stored::New),
        // A concurrent copy won the unique index: its transaction (and event) stands alone.
        Err(e) if violated(&e) == Some(Unique::MessageExternalId) => Ok(Stored::Duplicate),
        Err(e) => Err(e),
    }
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

/// How far along an outgoing status is; receipts only move a message forward.
fn progress(status: &str) -> u8 {
    match status {
        "queued" => 0,
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        _ => 0,
    }
}

/// Records a receipt for a message this session sent (found by its engine id) and
/// pushes `message.updated`, if it moves the message forward. A message failed for
/// want of an acknowledgement that turns out delivered is delivered after all.
pub async fn apply_receipt(
    store: &MessageStore,
    user_id: Uuid,
    session_id: Uuid,
    receipt: &crate::engine::Receipt,
) -> Result<bool, sea_orm::DbErr> {
    use crate::engine::ReceiptKind;
    let to = match receipt.kind {
        ReceiptKind::ServerAck => "sent",
        ReceiptKind::Delivered => "delivered",
        ReceiptKind::Read => "read",
    };
    let Some(msg) = message::Entity::find()
        .filter(message::Column::SessionId.eq(session_id))
        .filter(message::Column::Direction.eq("out"))
        .filter(message::Column::ExternalId.eq(receipt.message_id.as_str()))
        .one(&store.db)
        .await?
    else {
        return Ok(false);
    };
    let forward = match msg.status.as_str() {
        "failed" => msg.error.as_deref() == Some(super::sender::NO_ACK) && to != "sent",
        now => progress(now) < progress(to),
    };
    if !forward {
        return Ok(false);
    }
    set_status(store, user_id, session_id, msg.id, to, None, None).await?;
    Ok(true)
}

/// Remembers the engine id of a message that went on the wire (still `queued`: no ack yet).
pub async fn set_external_id(store: &MessageStore, id: Uuid, external_id: &str) -> Result<(), sea_orm::DbErr> {
    message::Entity::update_many()
        .col_expr(message::Column::ExternalId, Expr::value(external_id))
        .col_expr(message::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(message::Column::Id.eq(id))
        .exec(&store.db)
        .await?;
    Ok(())
}

/// Fails the messages that went on the wire and were never acknowledged.
pub async fn fail_unacknowledged(
    store: &MessageStore,
    user_id: Uuid,
    session_id: Uuid,
    why: &str,
) -> Result<(), sea_orm::DbErr> {
    let stale = message::Entity::find()
        .filter(message::Column::SessionId.eq(session_id))
        .filter(message::Column::Direction.eq("out"))
        .filter(message::Column::Status.eq("queued"))
        .filter(message::Column::ExternalId.is_not_null())
        .all(&store.db)
        .await?;
    for msg in stale {
        set_status(store, user_id, session_id, msg.id, "failed", Some(why.to_owned()), None).await?;
    }
    Ok(())
}
