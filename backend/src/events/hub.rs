//! The per-user event log and its live fan-out.
//!
//! `publish` gives each event the user's next sequence number, stores it, hands it to
//! the append hook (the webhook outbox) in the same transaction, and only then broadcasts it to the
//! user's sockets. The per-user sequence lock is held until the broadcast is done, so
//! broadcast order is sequence order and a subscriber that reads `last_seq` after
//! subscribing sees every later event live.
//!
//! In cluster mode (`with_remote`) the frame also goes to NATS after commit, and each
//! node's channels are fed from their users' subjects, in order (`order.rs`).

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
use super::remote::Remote;
use super::{order, AppendHook, Event};
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
    remote: Option<Arc<Remote>>,
}

impl EventHub {
    pub fn new(db: DatabaseConnection, buffer: usize, hook: Arc<dyn AppendHook>) -> Self {
        Self {
            db,
            buffer: buffer.max(1),
            users: Mutex::new(HashMap::new()),
            hook,
            sockets: AtomicUsize::new(0),
            remote: None,
        }
    }

    /// Cluster mode: events also travel between nodes over NATS.
    pub fn with_remote(mut self, client: async_nats::Client, prefix: String) -> Self {
        self.remote = Some(Arc::new(Remote::new(client, prefix)));
        self
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
        let channel = self.channel(user_id);
        if let Some(remote) = &self.remote {
            let ev = self.append_shared(user_id, name, session_id, data, change).await?;
            remote.publish(&ev);
            order::deliver(&self.db, &channel, ev.clone()).await;
            crate::metrics::EVENTS_PUBLISHED.inc();
            return Ok(ev);
        }
        let mut seq_guard = channel.seq.lock().await;
        let last = match *seq_guard {
            Some(s) => s,
            None => self.max_seq(user_id).await?,
        };
        let ev = Arc::new(Event::new(user_id, last + 1, name.to_owned(), session_id, Utc::now(), data));
        if let Err(e) = self.store(&ev, change).await {
            // The commit may have landed anyway; reload the sequence from the log next time.
            *seq_guard = None;
            return Err(e);
        }
        *seq_guard = Some(ev.seq);
        channel.send(ev.clone());
        drop(seq_guard);
        crate::metrics::EVENTS_PUBLISHED.inc();
        Ok(ev)
    }

    /// Cluster mode: the next seq is read from the log in the event's own transaction.
    /// TODO(events): replace with the per-user counter row (m0004) so nodes never race.
    async fn append_shared(
        &self,
        user_id: Uuid,
        name: &str,
        session_id: Option<Uuid>,
        data: serde_json::Value,
        change: Option<TxnChange>,
    ) -> Result<Arc<Event>, DbErr> {
        let last = self.max_seq(user_id).await?;
        let ev = Arc::new(Event::new(user_id, last + 1, name.to_owned(), session_id, Utc::now(), data));
        self.store(&ev, change).await?;
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

    /// Live events of one user from now on. In cluster mode the first subscription of a
    /// user on this node subscribes to the user's NATS subject (the last one unsubscribes).
    pub async fn subscribe(&self, user_id: Uuid) -> anyhow::Result<Subscription> {
        let channel = self.channel(user_id);
        let sub = channel.subscribe();
        let Some(remote) = &self.remote else { return Ok(sub) };
        let mut seq = channel.seq.lock().await;
        if channel.has_remote() {
            return Ok(sub);
        }
        let mut frames = remote.subscribe(user_id).await?;
        // Read after the subject is registered: every later event arrives or leaves a hole.
        *seq = Some(self.max_seq(user_id).await?);
        let (db, fed) = (self.db.clone(), channel.clone());
        let task = tokio::spawn(async move {
            while let Some(frame) = super::remote::next(&mut frames, user_id).await {
                if let Some(ev) = frame {
                    order::deliver(&db, &fed, Arc::new(ev)).await;
                }
            }
        });
        channel.set_remote(task.abort_handle());
        Ok(sub)
    }

    /// Cluster mode: brings every channel with listeners up to its user's log, for
    /// frames NATS lost with no later frame to reveal the hole (a NATS restart).
    pub async fn sweep(&self) -> Result<(), DbErr> {
        let live: Vec<(Uuid, Arc<UserChannel>)> = {
            let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
            users.iter().filter(|(_, c)| c.receivers() > 0).map(|(u, c)| (*u, c.clone())).collect()
        };
        for chunk in live.chunks(500) {
            let newest: HashMap<Uuid, i64> = event::Entity::find()
                .select_only()
                .column(event::Column::UserId)
                .column_as(event::Column::Seq.max(), "seq")
                .filter(event::Column::UserId.is_in(chunk.iter().map(|(u, _)| *u)))
                .group_by(event::Column::UserId)
                .into_tuple::<(Uuid, i64)>()
                .all(&self.db)
                .await?
                .into_iter()
                .collect();
            for (user_id, channel) in chunk {
                let behind = match (newest.get(user_id), *channel.seq.lock().await) {
                    (Some(n), Some(done)) => *n > done,
                    _ => false,
                };
                if behind {
                    order::catch_up(&self.db, channel, *user_id).await?;
                }
            }
        }
        Ok(())
    }

    pub fn is_clustered(&self) -> bool {
        self.remote.is_some()
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
