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
    /// An empty list wants nothing (registration never stores one; an unreadable row is read as empty).
    fn wants(&self, event: &str) -> bool {
        self.events.iter().any(|pattern| {
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
    cache: Arc<Mutex<Cache>>,
}

/// The endpoints per user, with the webhooks generation they were read under, and how
/// many local invalidations there have been.
///
/// Across nodes the generation decides: every webhook change bumps the user's
/// `webhooks_gen` in its transaction, the event transaction reads it with the user's
/// sequence numbers, and an entry read under another generation is read again (in the
/// event's transaction, so it sees exactly the endpoints that exist when the event does).
/// Locally, a fill records the invalidation count before it reads the database and is kept
/// only if no invalidation happened since: on PostgreSQL a read can see the old rows, then
/// the change commits and invalidates, and only then the fill would land.
#[derive(Default)]
struct Cache {
    generation: u64,
    users: HashMap<Uuid, (i64, Arc<Vec<Target>>)>,
}

impl WebhookOutbox {
    pub fn new() -> Self {
        Self::default()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forget the cached endpoints of a user (after any webhook change, once committed).
    pub fn invalidate(&self, user_id: Uuid) {
        let mut cache = self.cache();
        cache.generation += 1;
        cache.users.remove(&user_id);
    }

    /// The cached endpoints read under `webhooks_gen`, or the local count a fill must start from.
    fn lookup(&self, user_id: Uuid, webhooks_gen: i64) -> Result<Arc<Vec<Target>>, u64> {
        let cache = self.cache();
        match cache.users.get(&user_id) {
            Some((read_under, targets)) if *read_under == webhooks_gen => Ok(targets.clone()),
            _ => Err(cache.generation),
        }
    }

    /// Keeps what a fill read unless an invalidation happened since it started.
    fn fill(&self, user_id: Uuid, started: u64, webhooks_gen: i64, targets: Arc<Vec<Target>>) {
        let mut cache = self.cache();
        if cache.generation == started {
            cache.users.insert(user_id, (webhooks_gen, targets));
        }
    }

    async fn targets<C: ConnectionTrait>(
        &self,
        conn: &C,
        user_id: Uuid,
        webhooks_gen: i64,
    ) -> Result<Arc<Vec<Target>>, DbErr> {
        let started = match self.lookup(user_id, webhooks_gen) {
            Ok(hit) => return Ok(hit),
            Err(generation) => generation,
        };
        let rows = webhook::Entity::find()
            .filter(webhook::Column::UserId.eq(user_id))
            .filter(webhook::Column::Active.eq(true))
            .all(conn)
            .await?;
        let targets: Arc<Vec<Target>> = Arc::new(rows.into_iter().map(target_of).collect());
        self.fill(user_id, started, webhooks_gen, targets.clone());
        Ok(targets)
    }

    /// Queues `event` for every endpoint of its user that subscribed to it.
    pub async fn enqueue<C: ConnectionTrait>(&self, conn: &C, event: &Event) -> Result<(), DbErr> {
        let targets = self.targets(conn, event.user_id, event.webhooks_gen).await?;
        if targets.is_empty() {
            return Ok(());
        }
        let payload = serde_json::json!({
            "seq": event.seq,
            "event": event.event,
            "session_id": event.session_id,
            "at": crate::domain::Timestamp::from(event.at),
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

/// Fails closed: an event list that cannot be read subscribes to nothing.
fn target_of(w: webhook::Model) -> Target {
    let events = serde_json::from_str::<Vec<String>>(&w.events).unwrap_or_else(|e| {
        tracing::error!(webhook_id = %w.id, error = %e, "unreadable webhook event list; it receives nothing");
        Vec::new()
    });
    Target { id: w.id, events }
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
        assert!(!t(&[]).wants("session.qr"), "no list means nothing, never everything");
        assert!(t(&["*"]).wants("message.received"));
        assert!(t(&["session.*"]).wants("session.qr"));
        assert!(!t(&["session.*"]).wants("message.received"));
        assert!(!t(&["session.*"]).wants("sessionx.qr"));
        assert!(t(&["message.received"]).wants("message.received"));
        assert!(!t(&["message.received"]).wants("message.updated"));
    }

    fn one_target() -> Arc<Vec<Target>> {
        Arc::new(vec![Target { id: Uuid::new_v4(), events: vec!["*".into()] }])
    }

    #[test]
    fn a_fill_that_raced_an_invalidation_is_dropped() {
        let outbox = WebhookOutbox::new();
        let user = Uuid::new_v4();
        // The fill reads the old rows; the change commits and invalidates; the fill lands.
        let started = outbox.lookup(user, 0).expect_err("empty cache");
        outbox.invalidate(user);
        outbox.fill(user, started, 0, one_target());
        assert!(outbox.lookup(user, 0).is_err(), "the stale fill must not be cached");
        // A fill with no change in between is kept.
        let started = outbox.lookup(user, 0).expect_err("still empty");
        outbox.fill(user, started, 0, one_target());
        assert!(outbox.lookup(user, 0).is_ok());
        // Another user's change also discards a fill in flight (the generation is shared).
        let started = outbox.lookup(Uuid::new_v4(), 0).expect_err("empty");
        outbox.invalidate(user);
        let other = Uuid::new_v4();
        outbox.fill(other, started, 0, one_target());
        assert!(outbox.lookup(other, 0).is_err());
    }

    #[test]
    fn an_entry_read_under_another_webhooks_generation_is_read_again() {
        let outbox = WebhookOutbox::new();
        let user = Uuid::new_v4();
        let started = outbox.lookup(user, 3).expect_err("empty cache");
        outbox.fill(user, started, 3, one_target());
        assert!(outbox.lookup(user, 3).is_ok());
        // Another node changed the user's webhooks: events now carry generation 4.
        assert!(outbox.lookup(user, 4).is_err(), "a stale entry must not serve a newer event");
    }

    #[test]
    fn unreadable_event_lists_subscribe_to_nothing() {
        let row = webhook::Model {
            id: Uuid::new_v4(),
            user_id: Uuid::new_v4(),
            url: "https://example.com/hook".into(),
            events: "{not json".into(),
            secret: String::new(),
            active: true,
            created_at: Utc::now(),
        };
        let target = target_of(row);
        assert!(crate::webhooks::validate::EVENTS.iter().all(|e| !target.wants(e)));
    }
}
