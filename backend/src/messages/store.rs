//! Writing messages and announcing them.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use super::types::MessageOut;
use crate::db::constraint::{violated, Unique};
use crate::db::entities::{message, session};
use crate::engine::Incoming;
use crate::events::{Change, EventHub, TxnChange, Upsert};

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
    let (data, change) = incoming_change(session_id, user_id, msg);
    let stored = stored(store.hub.publish_change(user_id, "message.received", Some(session_id), data, change).await)?;
    ack.fire();
    Ok(stored)
}

/// Like `store_incoming`, without waiting for the commit: returns once the message is
/// queued to its writer. The writer acknowledges it to the network once it is committed
/// (or found stored already) and logs a failure, which leaves it unacknowledged. Messages
/// queued one after the other are stored and announced in that order.
pub async fn submit_incoming(
    store: &MessageStore,
    session_id: Uuid,
    user_id: Uuid,
    msg: Incoming,
) -> Result<(), sea_orm::DbErr> {
    let ack = msg.ack.clone();
    let (data, change) = incoming_change(session_id, user_id, msg);
    let then = move |answer: crate::events::Answer| match stored(answer) {
        Ok(_) => ack.fire(),
        Err(e) => {
            tracing::error!(session_id = %session_id, error = %e, "could not store incoming message; it stays unacknowledged")
        }
    };
    store.hub.submit(user_id, "message.received", Some(session_id), data, change, then).await
}

/// What became of a `message.received` publish.
fn stored<T>(answer: Result<T, sea_orm::DbErr>) -> Result<Stored, sea_orm::DbErr> {
    match answer {
        Ok(_) => Ok(Stored::New),
        // The row was there already: the first copy and its event stand.
        Err(sea_orm::DbErr::RecordNotInserted) => Ok(Stored::Duplicate),
        // A concurrent copy won the unique index.
        Err(e) if violated(&e) == Some(Unique::MessageExternalId) => Ok(Stored::Duplicate),
        Err(e) => Err(e),
    }
}

/// The event data and the change of an incoming message: one insert that skips a copy of
/// a stored message (same network id on the same session) instead of failing, so it needs
/// no savepoint, and the session's activity time, set once per batch.
fn incoming_change(session_id: Uuid, user_id: Uuid, msg: Incoming) -> (serde_json::Value, Change) {
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
    (data, Change { upsert: Some(Upsert::Message(Box::new(row))), run: None, touch_session: Some(session_id) })
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
