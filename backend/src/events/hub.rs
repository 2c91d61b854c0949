//! The per-user event log and its live fan-out.
//!
//! `publish` stores each event under the user's next sequence number (taken from the
//! database in the same transaction), runs the append hook (the webhook outbox) in that
//! transaction, and only after the commit hands the event to the `Fanout`. The commit and
//! the delivery run in a task of their own: a caller that stops waiting changes nothing.
//!
//! In cluster mode (`clustered`) the fanout is `ClusterFanout`: events travel between
//! nodes over NATS and each node puts its users' events back in order (`order.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use tokio::sync::oneshot;
use uuid::Uuid;

use super::channel::Subscription;
use super::local::LocalChannels;
use super::{seq, AppendHook, ClusterFanout, Event, Fanout};
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
    local: Arc<LocalChannels>,
    fanout: Arc<dyn Fanout>,
    hook: Arc<dyn AppendHook>,
    /// One lock per user, held from the transaction to the delivery, so each user's
    /// events are delivered in sequence order.
    order: Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>,
    sockets: AtomicUsize,
    /// Cluster mode: the same fanout as `fanout`, for subscribing and sweeping.
    cluster: Option<Arc<ClusterFanout>>,
}

/// What one publish asks for.
struct Publish {
    user_id: Uuid,
    name: String,
    session_id: Option<Uuid>,
    data: serde_json::Value,
    change: Option<TxnChange>,
}

impl EventHub {
    /// A hub delivering to this process's subscribers only.
    pub fn new(db: DatabaseConnection, buffer: usize, hook: Arc<dyn AppendHook>) -> Self {
        Self::with_fanout(db, buffer, hook, |local| local)
    }

    /// A hub whose committed events go to the fanout `make` builds around the local channels.
    pub fn with_fanout(
        db: DatabaseConnection,
        buffer: usize,
        hook: Arc<dyn AppendHook>,
        make: impl FnOnce(Arc<LocalChannels>) -> Arc<dyn Fanout>,
    ) -> Self {
        let local = Arc::new(LocalChannels::new(buffer));
        let fanout = make(local.clone());
        Self { db, local, fanout, hook, order: Mutex::new(HashMap::new()), sockets: AtomicUsize::new(0), cluster: None }
    }

    /// Cluster mode: events also travel between nodes over NATS subjects under `prefix`.
    pub fn clustered(
        db: DatabaseConnection,
        buffer: usize,
        hook: Arc<dyn AppendHook>,
        client: async_nats::Client,
        prefix: String,
    ) -> Self {
        let mut cluster = None;
        let mut hub = Self::with_fanout(db.clone(), buffer, hook, |local| {
            let fanout = Arc::new(ClusterFanout::new(local, client, prefix, db));
            cluster = Some(fanout.clone());
            fanout
        });
        hub.cluster = cluster;
        hub
    }

    pub fn is_clustered(&self) -> bool {
        self.cluster.is_some()
    }

    /// Cluster mode: catches sockets up on events NATS lost (see `ClusterFanout::sweep`).
    pub async fn sweep(&self) -> Result<(), DbErr> {
        match &self.cluster {
            Some(cluster) => cluster.sweep().await,
            None => Ok(()),
        }
    }

    fn order_lock(&self, user_id: Uuid) -> Arc<tokio::sync::Mutex<()>> {
        let mut order = self.order.lock().unwrap_or_else(|p| p.into_inner());
        order.entry(user_id).or_default().clone()
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
    /// Dropping the returned future does not stop the publish.
    pub async fn publish_with(
        &self,
        user_id: Uuid,
        name: &str,
        session_id: Option<Uuid>,
        data: serde_json::Value,
        change: Option<TxnChange>,
    ) -> Result<Arc<Event>, DbErr> {
        let publish = Publish { user_id, name: name.to_owned(), session_id, data, change };
        let (db, hook, fanout) = (self.db.clone(), self.hook.clone(), self.fanout.clone());
        let order = self.order_lock(user_id);
        let (done, result) = oneshot::channel();
        tokio::spawn(async move {
            let _order = order.lock().await;
            let stored = store(&db, hook.as_ref(), publish).await;
            if let Ok(ev) = &stored {
                fanout.deliver(ev);
                crate::metrics::EVENTS_PUBLISHED.inc();
            }
            let _ = done.send(stored);
        });
        result.await.unwrap_or_else(|_| Err(DbErr::Custom("the publish task ended without an answer".into())))
    }

    /// Live events of one user from now on. In cluster mode the first subscription of a
    /// user on this node subscribes to the user's NATS subject (the last one unsubscribes).
    pub async fn subscribe(&self, user_id: Uuid) -> anyhow::Result<Subscription> {
        match &self.cluster {
            Some(cluster) => cluster.subscribe(user_id).await,
            None => Ok(self.local.subscribe(user_id)),
        }
    }

    /// Highest sequence number of the user's log. Called after `subscribe`, every event
    /// above it reaches the subscription (delivery follows the commit).
    pub async fn last_seq(&self, user_id: Uuid) -> Result<i64, DbErr> {
        seq::last(&self.db, user_id).await
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
        // Settings refuse 0 at load; the newest event stays even if a caller passes it.
        let keep = keep.max(1);
        let sql = format!(
            "DELETE FROM events WHERE seq <= (SELECT MAX(e2.seq) FROM events e2 WHERE e2.user_id = events.user_id) - {keep}"
        );
        let res = self.db.execute_unprepared(&sql).await?;
        Ok(res.rows_affected())
    }

    /// Number of users with a live channel (for metrics).
    pub fn channels(&self) -> usize {
        self.local.channels()
    }

    /// Live subscriptions of one user.
    pub fn receiver_count(&self, user_id: Uuid) -> usize {
        self.local.receiver_count(user_id)
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

/// One transaction: the change, the next sequence number, the event row, the hook.
async fn store(db: &DatabaseConnection, hook: &dyn AppendHook, p: Publish) -> Result<Arc<Event>, DbErr> {
    let txn = db.begin().await?;
    if let Some(change) = p.change {
        change(&txn).await?;
    }
    let seq = seq::reserve(&txn, p.user_id, 1).await?;
    let ev = Event::new(p.user_id, seq, p.name, p.session_id, Utc::now(), p.data);
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
    hook.appended(&txn, &ev).await?;
    txn.commit().await?;
    Ok(Arc::new(ev))
}

pub struct SocketGuard(Arc<EventHub>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.sockets.fetch_sub(1, Ordering::Relaxed);
        crate::metrics::WS_CONNECTIONS.dec();
    }
}
