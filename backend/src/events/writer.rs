//! Group commit: publishes queue to a writer task that stores many of them in one
//! transaction, then delivers each committed event.
//!
//! A batch is what waited in the queue when the writer got to it (plus what arrives
//! within `batch_wait`), at most `batch_max`. Inside the batch transaction the row
//! inserts that cannot fail on their own (`Change::upsert`, e.g. an incoming message with
//! `ON CONFLICT DO NOTHING`) run first without a savepoint; then each other change runs
//! under a savepoint, so a change that fails fails only its own publish; then one
//! statement sets the activity time of every session the batch touched, each user's
//! sequence numbers are reserved at once, the events inserted, the append hook run, and
//! the batch committed. Should an upsert fail after all, the transaction is rolled back
//! before any other change ran and the batch runs again with a savepoint per upsert, so
//! again only the failing publish fails. Only after the commit are the events delivered,
//! in order. One writer serves a user for the life of the process, so each user's events
//! are committed and delivered in sequence order.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures_util::FutureExt;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::rows::{self, Upsert};
use super::{AppendHook, Change, Event, Fanout, TxnChange};
use crate::db::entities::{message, session};

/// What one publish asks for.
pub(super) struct Publish {
    pub user_id: Uuid,
    pub name: String,
    pub session_id: Option<Uuid>,
    pub data: serde_json::Value,
    pub change: Change,
    /// When it was asked for: the event's time, so queueing counts in its latency.
    pub at: DateTime<Utc>,
}

/// The answer to a publish: its committed event, or why there is none.
pub type Answer = Result<Arc<Event>, DbErr>;

/// Runs in the writer with the answer, right after the batch committed (or failed).
pub type Then = Box<dyn FnOnce(Answer) + Send>;

/// Where a publish's answer goes.
pub(super) enum Reply {
    /// A caller awaits it.
    Wait(oneshot::Sender<Answer>),
    /// The writer runs it: the caller went on without waiting.
    Then(Then),
}

impl Reply {
    fn send(self, answer: Answer) {
        match self {
            Reply::Wait(tx) => {
                let _ = tx.send(answer);
            }
            Reply::Then(then) => {
                // A panicking callback must not cut short the delivery of the rest of the batch.
                if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| then(answer))).is_err() {
                    tracing::error!("a publish's completion panicked");
                }
            }
        }
    }
}

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
        let mut slots: Vec<Slot> = batch.into_iter().map(Slot::new).collect();
        match self.store(&mut slots).await {
            Ok(events) => {
                crate::metrics::EVENTS_PUBLISHED.add(events.len() as i64);
                crate::metrics::EVENT_BATCHES.inc();
                let mut events = events.into_iter();
                for slot in slots {
                    let answer = match slot.outcome {
                        Outcome::Kept => match events.next() {
                            Some(ev) => {
                                self.fanout.deliver(&ev);
                                Ok(ev)
                            }
                            None => Err(DbErr::Custom("the event batch lost an event".into())),
                        },
                        Outcome::Failed(e) => Err(e),
                        Outcome::Nothing => Err(DbErr::RecordNotInserted),
                    };
                    slot.reply.send(answer);
                }
            }
            Err(e) => {
                let msg = e.to_string();
                for slot in slots {
                    let answer = match slot.outcome {
                        // Its own change's error (e.g. a unique violation) tells the caller more.
                        Outcome::Failed(e) => Err(e),
                        _ => Err(DbErr::Custom(format!("the event batch was not stored: {msg}"))),
                    };
                    slot.reply.send(answer);
                }
            }
        }
    }

    /// Stores the batch in one transaction and returns the events of the publishes it
    /// kept, in order; the outcome of each publish is left in its slot.
    async fn store(&self, slots: &mut [Slot]) -> Result<Vec<Arc<Event>>, DbErr> {
        // A lone publish needs no savepoint: its change failing fails the whole batch, i.e. it.
        let alone = slots.len() == 1;
        let mut careful = alone;
        loop {
            let txn = self.db.begin().await?;
            match self.upserts(&txn, slots, careful).await {
                Ok(()) => {}
                Err(Failure::Change(e)) if !careful => {
                    // Nothing else ran yet: roll back and run the upserts one savepoint each.
                    tracing::warn!(error = %e, "an upsert failed its batch; running the batch again with savepoints");
                    txn.rollback().await?;
                    for slot in slots.iter_mut() {
                        slot.outcome = Outcome::Kept;
                    }
                    careful = true;
                    continue;
                }
                Err(Failure::Change(e)) | Err(Failure::Batch(e)) => return Err(e),
            }
            for slot in slots.iter_mut() {
                let Some(change) = slot.run.take() else { continue };
                if !matches!(slot.outcome, Outcome::Kept) {
                    continue;
                }
                match run_change(&txn, change, alone).await {
                    Ok(()) => {}
                    Err(Failure::Change(e)) if !alone => slot.outcome = Outcome::Failed(e),
                    Err(Failure::Change(e)) => {
                        slot.outcome = Outcome::Failed(e);
                        return Err(DbErr::Custom("the publish's change failed".into()));
                    }
                    Err(Failure::Batch(e)) => return Err(e),
                }
            }
            touch_sessions(&txn, touched(slots)).await?;
            let events = self.append(&txn, slots).await?;
            txn.commit().await?;
            return Ok(events);
        }
    }

    /// Runs the upserts of the batch: `careful`, each under its own savepoint (or alone),
    /// so one failing fails its publish; else the batch's messages in one statement and the
    /// other rows one by one, and the first failure is returned as `Failure::Change` for the
    /// caller to roll back and retry carefully.
    async fn upserts(&self, txn: &DatabaseTransaction, slots: &mut [Slot], careful: bool) -> Result<(), Failure> {
        let alone = slots.len() == 1;
        if careful && !alone {
            for slot in slots.iter_mut() {
                let Some(upsert) = slot.upsert.as_ref() else { continue };
                let savepoint = txn.begin().await.map_err(Failure::Batch)?;
                match store_one(&savepoint, upsert).await {
                    Ok(stored) => {
                        savepoint.commit().await.map_err(Failure::Batch)?;
                        if !stored {
                            slot.outcome = Outcome::Nothing;
                        }
                    }
                    Err(e) => {
                        savepoint.rollback().await.map_err(Failure::Batch)?;
                        slot.outcome = Outcome::Failed(e);
                    }
                }
            }
            return Ok(());
        }
        let failed = |e: DbErr, slot: &mut Slot| {
            if alone {
                slot.outcome = Outcome::Failed(e);
                Failure::Batch(DbErr::Custom("the publish's change failed".into()))
            } else {
                Failure::Change(e)
            }
        };
        let messages: Vec<&message::Model> = slots
            .iter()
            .filter_map(|s| match &s.upsert {
                Some(Upsert::Message(row)) => Some(row.as_ref()),
                _ => None,
            })
            .collect();
        if !messages.is_empty() {
            match rows::insert_messages(txn, &messages).await {
                Ok(stored) => {
                    for slot in slots.iter_mut() {
                        if let Some(Upsert::Message(row)) = &slot.upsert {
                            if !stored.contains(&row.id) {
                                slot.outcome = Outcome::Nothing;
                            }
                        }
                    }
                }
                // Alone, the lone slot is the one with the message.
                Err(e) => return Err(failed(e, &mut slots[0])),
            }
        }
        for slot in slots.iter_mut() {
            let Some(Upsert::Row(upsert)) = slot.upsert.as_ref() else { continue };
            match upsert(txn).await {
                Ok(true) => {}
                Ok(false) => slot.outcome = Outcome::Nothing,
                Err(e) => return Err(failed(e, slot)),
            }
        }
        Ok(())
    }

    /// Numbers, inserts and hooks the events of the kept publishes, in order.
    async fn append(&self, txn: &DatabaseTransaction, slots: &mut [Slot]) -> Result<Vec<Arc<Event>>, DbErr> {
        let mut per_user: HashMap<Uuid, i64> = HashMap::new();
        for s in slots.iter().filter(|s| matches!(s.outcome, Outcome::Kept)) {
            *per_user.entry(s.user_id).or_default() += 1;
        }
        let mut next = rows::reserve_seqs(txn, &per_user).await?;
        let mut events = Vec::with_capacity(slots.len());
        for s in slots.iter_mut().filter(|s| matches!(s.outcome, Outcome::Kept)) {
            let Some(p) = s.event.take() else { continue };
            let slot =
                next.get_mut(&s.user_id).ok_or_else(|| DbErr::Custom("no sequence numbers for a user".into()))?;
            let mut ev = Event::new(s.user_id, slot.first, p.name, p.session_id, p.at, p.data);
            ev.webhooks_gen = slot.webhooks_gen;
            events.push(Arc::new(ev));
            slot.first += 1;
        }
        rows::insert_events(txn, &events).await?;
        for ev in &events {
            self.hook.appended(txn, ev).await?;
        }
        Ok(events)
    }
}

/// What the event of a publish is made of.
struct EventParts {
    name: String,
    session_id: Option<Uuid>,
    data: serde_json::Value,
    at: DateTime<Utc>,
}

/// One publish of a batch, taken apart, and what became of it.
struct Slot {
    user_id: Uuid,
    event: Option<EventParts>,
    upsert: Option<Upsert>,
    run: Option<TxnChange>,
    touch_session: Option<Uuid>,
    outcome: Outcome,
    reply: Reply,
}

impl Slot {
    fn new(Request { publish, reply }: Request) -> Self {
        let Publish { user_id, name, session_id, data, change, at } = publish;
        Self {
            user_id,
            event: Some(EventParts { name, session_id, data, at }),
            upsert: change.upsert,
            run: change.run,
            touch_session: change.touch_session,
            outcome: Outcome::Kept,
            reply,
        }
    }
}

enum Outcome {
    /// Its event is (to be) stored.
    Kept,
    /// Its change failed: no event; the caller gets the change's error.
    Failed(DbErr),
    /// Its upsert found the row already there: no event; the caller gets `RecordNotInserted`.
    Nothing,
}

/// Stores one upsert on its own; whether it stored a row.
async fn store_one(txn: &DatabaseTransaction, upsert: &Upsert) -> Result<bool, DbErr> {
    match upsert {
        Upsert::Message(row) => Ok(!rows::insert_messages(txn, &[row.as_ref()]).await?.is_empty()),
        Upsert::Row(change) => change(txn).await,
    }
}

enum Failure {
    /// The change itself failed; its savepoint is rolled back and the batch goes on.
    Change(DbErr),
    /// The transaction is unusable.
    Batch(DbErr),
}

/// The sessions whose activity time the kept publishes of the batch set.
fn touched(slots: &[Slot]) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> =
        slots.iter().filter(|s| matches!(s.outcome, Outcome::Kept)).filter_map(|s| s.touch_session).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// One statement sets the activity time of all `sessions`.
async fn touch_sessions(txn: &DatabaseTransaction, sessions: Vec<Uuid>) -> Result<(), DbErr> {
    if sessions.is_empty() {
        return Ok(());
    }
    session::Entity::update_many()
        .col_expr(session::Column::LastActivityAt, Expr::value(Utc::now()))
        .filter(session::Column::Id.is_in(sessions))
        .exec(txn)
        .await?;
    Ok(())
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
