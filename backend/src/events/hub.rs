//! The per-user event log and its live fan-out.
//!
//! `publish` gives each event the user's next sequence number, stores it, hands it to
//! the webhook outbox in the same transaction, and only then broadcasts it to the
//! user's sockets. A per-user lock keeps sequence numbers and broadcast order aligned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set, TransactionTrait,
};
use serde::Serialize;
use tokio::sync::broadcast;
use uuid::Uuid;

use crate::db::entities::event;

/// One event as stored and as sent to clients.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    #[serde(skip)]
    pub user_id: Uuid,
    pub seq: i64,
    pub event: String,
    pub session_id: Option<Uuid>,
    pub at: DateTime<Utc>,
    pub data: serde_json::Value,
}

impl Event {
    fn from_row(row: event::Model) -> Self {
        Self {
            user_id: row.user_id,
            seq: row.seq,
            event: row.event,
            session_id: row.session_id,
            at: row.created_at,
            data: serde_json::from_str(&row.data).unwrap_or(serde_json::Value::Null),
        }
    }
}


struct UserChannel {
    /// Last sequence number handed out; `None` until loaded from the database.
    seq: tokio::sync::Mutex<Option<i64>>,
    tx: broadcast::Sender<Arc<Event>>,
}

pub struct EventHub {
    db: DatabaseConnection,
    buffer: usize,
    users: Mutex<HashMap<Uuid, Arc<UserChannel>>>,
    outbox: crate::webhooks::Outbox,
}

/// What a reconnecting client gets for `since`.
pub struct Replay {
    pub events: Vec<Event>,
    /// Every event after `since` is in `events`.
    pub complete: bool,
}

impl EventHub {
    pub fn new(db: DatabaseConnection, buffer: usize, outbox: crate::webhooks::Outbox) -> Self {
        Self { db, buffer: buffer.max(1), users: Mutex::new(HashMap::new()), outbox }
    }

    fn channel(&self, user_id: Uuid) -> Arc<UserChannel> {
        let mut users = self.users.lock().unwrap_or_else(|p| p.into_inner());
        users
            .entry(user_id)
            .or_insert_with(|| {
                let (tx, _) = broadcast::channel(self.buffer);
                Arc::new(UserChannel { seq: tokio::sync::Mutex::new(None), tx })
            })
            .clone()
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
        let channel = self.channel(user_id);
        let mut seq_guard = channel.seq.lock().await;
        let last = match *seq_guard {
            Some(s) => s,
            None => self.max_seq(user_id).await?,
        };
        let ev = Event { user_id, seq: last + 1, event: name.to_owned(), session_id, at: Utc::now(), data };
        let txn = self.db.begin().await?;
        event::ActiveModel {
            user_id: Set(user_id),
            seq: Set(ev.seq),
            event: Set(ev.event.clone()),
            session_id: Set(session_id),
            data: Set(ev.data.to_string()),
            created_at: Set(ev.at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        self.outbox.enqueue(&txn, &ev).await?;
        txn.commit().await?;
        *seq_guard = Some(ev.seq);
        let ev = Arc::new(ev);
        // No receivers is fine: nobody is watching right now.
        let _ = channel.tx.send(ev.clone());
        crate::api::metrics::EVENTS_PUBLISHED.inc();
        Ok(ev)
    }

    /// Live events of one user from now on.
    pub fn subscribe(&self, user_id: Uuid) -> broadcast::Receiver<Arc<Event>> {
        self.channel(user_id).tx.subscribe()
    }

    /// Highest sequence number of the user's log.
    pub async fn last_seq(&self, user_id: Uuid) -> Result<i64, DbErr> {
        let channel = self.channel(user_id);
        let cached = *channel.seq.lock().await;
        match cached {
            Some(s) => Ok(s),
            None => self.max_seq(user_id).await,
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

    /// Everything after `since` up to `until`, and whether nothing in between was purged.
    pub async fn replay(&self, user_id: Uuid, since: i64, until: i64) -> Result<Replay, DbErr> {
        if since < 0 || since > until {
            return Ok(Replay { events: Vec::new(), complete: false });
        }
        let events: Vec<Event> = self
            .after(user_id, since, (until - since) as u64)
            .await?
            .into_iter()
            .filter(|e| e.seq <= until)
            .collect();
        let complete = events.len() as i64 == until - since
            && events.first().is_none_or(|e| e.seq == since + 1);
        Ok(Replay { events, complete })
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
        self.users.lock().map(|u| u.len()).unwrap_or(0)
    }
}
