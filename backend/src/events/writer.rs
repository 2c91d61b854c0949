//! Group commit: publishes queue to a writer task that stores many of them in one
//! transaction, then delivers each committed event.
//!
//! A batch is what waited in the queue when the writer got to it (plus what arrives
//! within `batch_wait`), at most `batch_max`. Inside the batch transaction each publish's
//! state change runs under a savepoint, so a change that fails fails only its own publish;
//! then each user's sequence numbers are reserved at once, the events inserted, the append
//! hook run, and the batch committed. Only then are its events delivered, in order. One
//! writer serves a user for the life of the process, so each user's events are committed
//! and delivered in sequence order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, Set, TransactionTrait};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::{seq, AppendHook, Event, Fanout, TxnChange};
use crate::db::entities::event;

/// What one publish asks for.
pub(super) struct Publish {
    pub user_id: Uuid,
    pub name: String,
    pub session_id: Option<Uuid>,
    pub data: serde_json::Value,
    pub change: Option<TxnChange>,
    /// When it was asked for: the event's time, so queueing counts in its latency.
    pub at: DateTime<Utc>,
}

pub(super) type Reply = oneshot::Sender<Result<Arc<Event>, DbErr>>;

pub(super) struct Request {
    pub publish: Publish,
    pub reply: Reply,
}

/// How writers batch.
#[derive(Debug, Clone, Copy)]
pub struct Batching {
    /// Publishes per transaction at most.
    pub max: usize,
    /// How long a batch stays open for more publishes after the queue ran dry.
    pub wait: Duration,
    /// Writer tasks; users are spread over them by id. Each holds one connection while it
    /// commits, so SQLite (one connection) gets one whatever is asked.
    pub writers: usize,
}

impl Default for Batching {
    fn default() -> Self {
        Self { max: 256, wait: Duration::ZERO, writers: 1 }
    }
}

/// Event rows per INSERT: 6 values each stays far below every backend's parameter limit.
const ROWS_PER_INSERT: usize = 500;

pub(super) struct Writer {
    pub db: DatabaseConnection,
    pub hook: Arc<dyn AppendHook>,
    pub fanout: Arc<dyn Fanout>,
    pub batching: Batching,
}

impl Writer {
    pub(super) async fn run(self, mut queue: mpsc::Receiver<Request>) {
        let mut batch = Vec::with_capacity(self.batching.max);
        while let Some(first) = queue.recv().await {
            batch.push(first);
            self.fill(&mut queue, &mut batch).await;
            // A panicking change must not stop the writer: its batch's callers get an error
            // (their replies are dropped) and the transaction rolls back.
            let commit = std::panic::AssertUnwindSafe(self.commit(std::mem::take(&mut batch)));
            if commit.catch_unwind().await.is_err() {
                tracing::error!("an event batch panicked; its publishes failed");
            }
        }
    }

    async fn fill(&self, queue: &mut mpsc::Receiver<Request>, batch: &mut Vec<Request>) {
        while batch.len() < self.batching.max {
            match queue.try_recv() {
                Ok(req) => batch.push(req),
                Err(_) => break,
            }
        }
        if self.batching.wait.is_zero() {
            return;
        }
        let deadline = tokio::time::Instant::now() + self.batching.wait;
        while batch.len() < self.batching.max {
            match tokio::time::timeout_at(deadline, queue.recv()).await {
                Ok(Some(req)) => batch.push(req),
                _ => break,
            }
        }
    }

    async fn commit(&self, batch: Vec<Request>) {
        let mut replies = Vec::with_capacity(batch.len());
        match self.store(batch, &mut replies).await {
            Ok(events) => {
                crate::metrics::EVENTS_PUBLISHED.add(events.len() as i64);
                crate::metrics::EVENT_BATCHES.inc();
                for (ev, reply) in events.into_iter().zip(replies) {
                    self.fanout.deliver(&ev);
                    let _ = reply.send(Ok(ev));
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(DbErr::Custom(format!("the event batch was not stored: {msg}"))));
                }
            }
        }
    }

    /// Stores the batch in one transaction. Publishes whose change failed are answered
    /// here; the others' replies are pushed to `replies`, in the order of the returned events.
    async fn store(&self, batch: Vec<Request>, replies: &mut Vec<Reply>) -> Result<Vec<Arc<Event>>, DbErr> {
        let txn = match self.db.begin().await {
            Ok(txn) => txn,
            Err(e) => {
                replies.extend(batch.into_iter().map(|r| r.reply));
                return Err(e);
            }
        };
        // A lone publish needs no savepoint: its change failing fails the whole batch, i.e. it.
        let alone = batch.len() == 1;
        let mut kept = Vec::with_capacity(batch.len());
        let mut pending = batch.into_iter();
        while let Some(Request { mut publish, reply }) = pending.next() {
            let Some(change) = publish.change.take() else {
                kept.push(publish);
                replies.push(reply);
                continue;
            };
            match run_change(&txn, change, alone).await {
                Ok(()) => {
                    kept.push(publish);
                    replies.push(reply);
                }
                Err(Failure::Change(e)) if !alone => {
                    let _ = reply.send(Err(e));
                }
                Err(Failure::Change(e)) => {
                    // The caller gets the change's own error (e.g. a unique violation).
                    let _ = reply.send(Err(e));
                    return Err(DbErr::Custom("the publish's change failed".into()));
                }
                Err(Failure::Batch(e)) => {
                    replies.push(reply);
                    replies.extend(pending.map(|r| r.reply));
                    return Err(e);
                }
            }
        }
        let events = self.append(&txn, kept).await?;
        txn.commit().await?;
        Ok(events)
    }

    /// Numbers, inserts and hooks the events of the batch, in order.
    async fn append(&self, txn: &DatabaseTransaction, kept: Vec<Publish>) -> Result<Vec<Arc<Event>>, DbErr> {
        let mut per_user: HashMap<Uuid, i64> = HashMap::new();
        for p in &kept {
            *per_user.entry(p.user_id).or_default() += 1;
        }
        let mut next: HashMap<Uuid, seq::Reserved> = HashMap::with_capacity(per_user.len());
        for (user_id, n) in per_user {
            next.insert(user_id, seq::reserve(txn, user_id, n).await?);
        }
        let mut events = Vec::with_capacity(kept.len());
        for p in kept {
            let slot = next.entry(p.user_id).or_insert(seq::Reserved { first: 0, webhooks_gen: 0 });
            let ev = Event::new(p.user_id, slot.first, p.name, p.session_id, p.at, p.data);
            events.push(Arc::new(ev.under_webhooks_gen(slot.webhooks_gen)));
            slot.first += 1;
        }
        for chunk in events.chunks(ROWS_PER_INSERT) {
            event::Entity::insert_many(chunk.iter().map(|ev| event::ActiveModel {
                user_id: Set(ev.user_id),
                seq: Set(ev.seq),
                event: Set(ev.event.clone()),
                session_id: Set(ev.session_id),
                data: Set(ev.data.to_string()),
                created_at: Set(ev.at),
                ..Default::default()
            }))
            .exec_without_returning(txn)
            .await?;
        }
        for ev in &events {
            self.hook.appended(txn, ev).await?;
        }
        Ok(events)
    }
}

enum Failure {
    /// The change itself failed; its savepoint is rolled back and the batch goes on.
    Change(DbErr),
    /// The transaction is unusable.
    Batch(DbErr),
}

async fn run_change(txn: &DatabaseTransaction, change: TxnChange, alone: bool) -> Result<(), Failure> {
    if alone {
        return change(txn).await.map_err(Failure::Change);
    }
    let savepoint = txn.begin().await.map_err(Failure::Batch)?;
    match change(&savepoint).await {
        Ok(()) => savepoint.commit().await.map_err(Failure::Batch),
        Err(e) => {
            savepoint.rollback().await.map_err(Failure::Batch)?;
            Err(Failure::Change(e))
        }
    }
}
