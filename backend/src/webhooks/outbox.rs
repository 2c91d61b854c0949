//! The durable webhook outbox: a delivery row per (event, matching endpoint), written in
//! the same transaction as the event itself, so an acknowledged event is never lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::db::entities::{webhook, webhook_delivery};
use crate::events::{AppendHook, Event};

#[derive(Debug, Clone)]
struct Target {
    id: Uuid,
    events: Vec<String>,
}

impl Target {
    fn wants(&self, event: &str) -> bool {
        self.events.is_empty()
            || self.events.iter().any(|pattern| {
                pattern == "*"
                    || pattern == event
                    || pattern
                        .strip_suffix(".*")
                        .is_some_and(|prefix| event.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.')))
            })
    }
}

/// Cheap to clone; all clones share the cache of each user's active endpoints.
#[derive(Clone, Default)]
pub struct WebhookOutbox {
    cache: Arc<Mutex<HashMap<Uuid, Arc<Vec<Target>>>>>,
}

impl WebhookOutbox {
    pub fn new() -> Self {
        Self::default()
    }

    /// Forget the cached endpoints of a user (after any webhook change).
    pub fn invalidate(&self, user_id: Uuid) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).remove(&user_id);
    }

    async fn targets<C: ConnectionTrait>(&self, conn: &C, user_id: Uuid) -> Result<Arc<Vec<Target>>, DbErr> {
        if let Some(hit) = self.cache.lock().unwrap_or_else(|p| p.into_inner()).get(&user_id) {
            return Ok(hit.clone());
        }
        let rows = webhook::Entity::find()
            .filter(webhook::Column::UserId.eq(user_id))
            .filter(webhook::Column::Active.eq(true))
            .all(conn)
            .await?;
        let targets: Arc<Vec<Target>> = Arc::new(
            rows.into_iter()
                .map(|w| Target { id: w.id, events: serde_json::from_str(&w.events).unwrap_or_default() })
                .collect(),
        );
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).insert(user_id, targets.clone());
        Ok(targets)
    }

    /// Queues `event` for every endpoint of its user that subscribed to it.
    pub async fn enqueue<C: ConnectionTrait>(&self, conn: &C, event: &Event) -> Result<(), DbErr> {
        let targets = self.targets(conn, event.user_id).await?;
        if targets.is_empty() {
            return Ok(());
        }
        let payload = serde_json::json!({
            "seq": event.seq,
            "event": event.event,
            "session_id": event.session_id,
            "at": event.at,
            "data": event.data,
        })
        .to_string();
        let now = Utc::now();
        for target in targets.iter().filter(|t| t.wants(&event.event)) {
            new_delivery(target.id, event.user_id, event.event.clone(), payload.clone(), now).insert(conn).await?;
        }
        Ok(())
    }
}

/// A delivery due now, with no attempts yet.
pub fn new_delivery(
    webhook_id: Uuid,
    user_id: Uuid,
    event: String,
    payload: String,
    now: chrono::DateTime<Utc>,
) -> webhook_delivery::ActiveModel {
    webhook_delivery::ActiveModel {
        id: Set(Uuid::new_v4()),
        webhook_id: Set(webhook_id),
        user_id: Set(user_id),
        event: Set(event),
        payload: Set(payload),
        status: Set("pending".into()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_status_code: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
    }
}

#[async_trait::async_trait]
impl AppendHook for WebhookOutbox {
    async fn appended(&self, txn: &sea_orm::DatabaseTransaction, event: &Event) -> Result<(), DbErr> {
        self.enqueue(txn, event).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_patterns() {
        let t = |events: &[&str]| Target { id: Uuid::nil(), events: events.iter().map(|s| s.to_string()).collect() };
        assert!(t(&[]).wants("session.qr"));
        assert!(t(&["*"]).wants("message.received"));
        assert!(t(&["session.*"]).wants("session.qr"));
        assert!(!t(&["session.*"]).wants("message.received"));
        assert!(!t(&["session.*"]).wants("sessionx.qr"));
        assert!(t(&["message.received"]).wants("message.received"));
        assert!(!t(&["message.received"]).wants("message.updated"));
    }
}
