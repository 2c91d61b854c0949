//! The per-user event log and its live fan-out.
//!
//! `publish` gives each event the user's next sequence number, stores it, hands it to
//! the append hook (the webhook outbox) in the same transaction, and only then broadcasts it to the
//! user's sockets. The per-user sequence lock is held until the broadcast is done, so
//! broadcast order is sequence order and a subscriber that reads `last_seq` after
//! subscribing sees every later event live.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use uuid::Uuid;

use super::channel::{Subscription, UserChannel};
use super::{AppendHook, Event};
use crate::db::entities::event;

/// Work done inside the transaction that stores an event.
pub type TxnChange = Box<
    dyn for<'t> FnOnce(
            &'t sea_orm::DatabaseTransaction,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), DbErr>> + Send + 't>>
        + Send,
>;

pub struct EventHub {
    db: DatabaseConnection,
    buffer: usize,
    users: Mutex<HashMap<Uuid, Arc<UserChannel>>>,
    hook: Arc<dyn AppendHook>,
    sockets: AtomicUsize,
    tracer: crate::otel::Tracer,
}

impl EventHub {
    pub fn new(db: DatabaseConnection, buffer: usize, hook: Arc<dyn AppendHook>, tracer: crate::otel::Tracer) -> Self {
        Self {
            db,
            buffer: buffer.max(1),
            users: Mutex::new(HashMap::new()),
            hook,
            sockets: AtomicUsize::new(0),
            tracer,
        }
    }

    /// The tracer that publishes are traced with; the HTTP layer traces requests with it too.
    pub fn tracer(&self) -> &crate::otel::Tracer {
        &self.tracer
    }

    fn channel(&self, user_id: Uuid) -> Arc<UserChannel> {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.entry(user_id).or_insert_with(|| Arc::new(UserChannel::new(self.buffer))).clone()
    }

    async fn max_seq(&self, user_id: Uuid) -> Result<i64, DbErr> {
        let last = event::Entity::find()
            .filter(event::Column::UserId.eq(user_id))
            .order_by_desc(event::Column::Seq)
            .limit(1)
            .one(&self.db)
            .await?;
        Ok(last.map(|e| e.seq).unwrap_or(0))
    }

    /// Appends an event to the user's log and pushes it to their live subscribers.
    pub async fn publish(
        &self,
        user_id: Uuid,
        name: &str,
        session_id: Option<Uuid>,
        data: serde_json::Value,
    ) -> Result<Arc<Event>, DbErr> {
        self.publish_with(user_id, name, session_id, data, None).await
    }

    /// Like `publish`, and runs `change` in the same transaction, so that a state change
    /// (a session row) and the event announcing it are stored together or not at all.
    pub async fn publish_with(
        &self,
        user_id: Uuid,
        name: &str,
        session_id: Option<Uuid>,
        data: serde_json::Value,
        change: Option<TxnChange>,
    ) -> Result<Arc<Event>, DbErr> {
        let started = std::time::Instant::now();
        let mut span = self.tracer.span("event.publish", crate::otel::Kind::Producer, None);
        span.attr("wahub.event", crate::otel::Value::Str(name.to_owned()));
        let channel = self.channel(user_id);
        let mut seq_guard = channel.seq.lock().await;
        let last = match *seq_guard {
            Some(s) => s,
            None => self.max_seq(user_id).await?,
        };
        let ev = Arc::new(Event::new(user_id, last + 1, name.to_owned(), session_id, Utc::now(), data));
        if let Err(e) = self.store(&ev, change).await {
            // The commit may have landed anyway; reload the sequence from the log next time.
            *seq_guard = None;
            span.error(e.to_string());
            return Err(e);
        }
        *seq_guard = Some(ev.seq);
        channel.send(ev.clone());
        drop(seq_guard);
        crate::metrics::EVENTS_PUBLISHED.inc();
        crate::metrics::EVENT_PUBLISH_DURATION.observe("", started.elapsed());
        span.attr("wahub.seq", crate::otel::Value::Int(ev.seq));
        span.end();
        Ok(ev)
    }

    async fn store(&self, ev: &Event, change: Option<TxnChange>) -> Result<(), DbErr> {
        let txn = self.db.begin().await?;
        if let Some(change) = change {
            change(&txn).await?;
        }
        event::ActiveModel {
            user_id: Set(ev.user_id),
            seq: Set(ev.seq),
            event: Set(ev.event.clone()),
            session_id: Set(ev.session_id),
            data: Set(ev.data.to_string()),
            created_at: Set(ev.at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.hook.appended(&txn, ev).await?;
        txn.commit().await
    }

    /// Live events of one user from now on.
    pub fn subscribe(&self, user_id: Uuid) -> Subscription {
        self.channel(user_id).subscribe()
    }

    /// Highest sequence number of the user's log. Waits for a publish in flight, so
    /// called after `subscribe` every event above it reaches the subscription.
    pub async fn last_seq(&self, user_id: Uuid) -> Result<i64, DbErr> {
        let channel = self.channel(user_id);
        let mut seq = channel.seq.lock().await;
        match *seq {
            Some(s) => Ok(s),
            None => {
                let s = self.max_seq(user_id).await?;
                *seq = Some(s);
                Ok(s)
            }
        }
    }

    /// Stored events after `since`, oldest first, at most `limit`.
    pub async fn after(&self, user_id: Uuid, since: i64, limit: u64) -> Result<Vec<Event>, DbErr> {
        let rows = event::Entity::find()
            .filter(event::Column::UserId.eq(user_id))
            .filter(event::Column::Seq.gt(since))
            .order_by_asc(event::Column::Seq)
            .limit(limit)
            .all(&self.db)
            .await?;
        Ok(rows.into_iter().map(Event::from_row).collect())
    }

    /// Whether every event in `since+1..=until` is still in the log. Sequence numbers
    /// have no holes and purging only drops the oldest, so the first one decides.
    pub async fn can_replay(&self, user_id: Uuid, since: i64, until: i64) -> Result<bool, DbErr> {
        if since < 0 || since > until {
            return Ok(false);
        }
        if since == until {
            return Ok(true);
        }
        let first = self.after(user_id, since, 1).await?;
        Ok(first.first().is_some_and(|e| e.seq == since + 1))
    }

    /// Drops events beyond the newest `keep` of each user.
    pub async fn purge(&self, keep: u64) -> Result<u64, DbErr> {
        let sql = format!(
            "DELETE FROM events WHERE seq <= (SELECT MAX(e2.seq) FROM events e2 WHERE e2.user_id = events.user_id) - {keep}"
        );
        let res = self.db.execute_unprepared(&sql).await?;
        Ok(res.rows_affected())
    }

    /// Number of users with a live channel (for metrics).
    pub fn channels(&self) -> usize {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.values().filter(|c| c.receivers() > 0).count()
    }

    /// Live subscriptions of one user.
    pub fn receiver_count(&self, user_id: Uuid) -> usize {
        let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users.get(&user_id).map_or(0, |c| c.receivers())
    }

    /// Counts an open socket until the guard drops.
    pub fn open_socket(self: &Arc<Self>) -> SocketGuard {
        self.sockets.fetch_add(1, Ordering::Relaxed);
        crate::metrics::WS_CONNECTIONS.inc();
        SocketGuard(self.clone())
    }

    /// Open WebSockets on this hub.
    pub fn sockets(&self) -> usize {
        self.sockets.load(Ordering::Relaxed)
    }
}

pub struct SocketGuard(Arc<EventHub>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.sockets.fetch_sub(1, Ordering::Relaxed);
        crate::metrics::WS_CONNECTIONS.dec();
    }
}
