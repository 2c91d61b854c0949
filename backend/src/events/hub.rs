//! The per-user event log and its live fan-out.
//!
//! `publish` queues the event (and the state change travelling with it) to the writer that
//! serves its user (`writer.rs`): the writer stores a batch of publishes in one transaction,
//! taking sequence numbers from the database in it, and only after the commit hands each
//! event to the `Fanout`. The caller either awaits its answer (`publish`, `publish_with`):
//! dropping a publish that was queued changes nothing; or hands over a completion that the
//! writer runs with the answer (`submit`), so a task with many events to store need not
//! wait for each commit before queueing the next.
//!
//! In cluster mode (`clustered`) the fanout is `ClusterFanout`: events travel between
//! nodes over NATS and each node puts its users' events back in order (`order.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::Utc;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::channel::Subscription;
use super::local::LocalChannels;
use super::rows::Upsert;
use super::writer::{Answer, Batching, Publish, Reply, Request, Then, Writer};
use super::{seq, AppendHook, ClusterFanout, Event, Fanout};
use crate::db::entities::event;

/// Work done inside the transaction that stores an event.
pub type TxnChange = Box<
    dyn for<'t> FnOnce(
            &'t sea_orm::DatabaseTransaction,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), DbErr>> + Send + 't>>
        + Send,
>;

/// Stores a row that cannot fail on its own (any error is the database's, e.g. a plain
/// insert with `ON CONFLICT DO NOTHING`) and says whether it stored one. It may run twice:
/// if it fails, its batch is rolled back and run again with a savepoint per upsert.
pub type RowChange = Box<
    dyn for<'t> Fn(
            &'t sea_orm::DatabaseTransaction,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<bool, DbErr>> + Send + 't>>
        + Send
        + Sync,
>;

/// The state change that travels with an event, committed in the event's transaction.
#[derive(Default)]
pub struct Change {
    /// Stored first, without a savepoint (see `RowChange`). When it stores nothing (the row
    /// was there already) there is no event, and the publish answers `DbErr::RecordNotInserted`.
    pub upsert: Option<Upsert>,
    /// Runs once, under its own savepoint when the batch holds other publishes: if it fails,
    /// only its publish fails (with its error).
    pub run: Option<TxnChange>,
    /// A session whose `last_activity_at` is set: one statement for all sessions of the batch.
    pub touch_session: Option<Uuid>,
}

impl Change {
    pub fn run(change: TxnChange) -> Self {
        Self { run: Some(change), ..Self::default() }
    }
}

pub struct EventHub {
    db: DatabaseConnection,
    local: Arc<LocalChannels>,
    fanout: Arc<dyn Fanout>,
    hook: Arc<dyn AppendHook>,
    batching: Batching,
    /// One queue per writer task, started by the first publish.
    writers: OnceLock<Vec<mpsc::Sender<Request>>>,
    sockets: AtomicUsize,
    tracer: crate::otel::Tracer,
    /// Cluster mode: the same fanout as `fanout`, for subscribing and sweeping.
    cluster: Option<Arc<ClusterFanout>>,
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
        Self {
            db,
            local,
            fanout,
            hook,
            batching: Batching::default(),
            writers: OnceLock::new(),
            sockets: AtomicUsize::new(0),
            tracer: crate::otel::Tracer::off(),
            cluster: None,
        }
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

    /// Traces every publish with `tracer` (off by default).
    pub fn with_tracer(mut self, tracer: crate::otel::Tracer) -> Self {
        self.tracer = tracer;
        self
    }

    /// The tracer that publishes are traced with; the HTTP layer traces requests with it too.
    pub fn tracer(&self) -> &crate::otel::Tracer {
        &self.tracer
    }

    /// How publishes are grouped into transactions (before the first publish).
    pub fn with_batching(mut self, batching: Batching) -> Self {
        self.batching = batching;
        self
    }

    fn queue(&self, user_id: Uuid) -> &mpsc::Sender<Request> {
        let writers = self.writers.get_or_init(|| {
            let mut batching = self.batching;
            batching.max = batching.max.max(1);
            // SQLite has one connection: a second writer would only wait for it.
            batching.writers = match self.db.get_database_backend() {
                DatabaseBackend::Sqlite => 1,
                _ => batching.writers.max(1),
            };
            (0..batching.writers)
                .map(|_| {
                    let (tx, rx) = mpsc::channel(batching.max.saturating_mul(8).max(64));
                    let writer =
                        Writer { db: self.db.clone(), hook: self.hook.clone(), fanout: self.fanout.clone(), batching };
                    tokio::spawn(writer.run(rx));
                    tx
                })
                .collect()
        });
        // Uuids are random: their low bits spread users evenly; one user always gets one writer.
        &writers[(user_id.as_u128() % writers.len() as u128) as usize]
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
    /// Dropping the returned future once it was queued does not stop the publish.
    pub async fn publish_with(
        &self,
        user_id: Uuid,
        name: &str,
        session_id: Option<Uuid>,
        data: serde_json::Value,
        change: Option<TxnChange>,
    ) -> Result<Arc<Event>, DbErr> {
        self.publish_change(user_id, name, session_id, data, change.map(Change::run).unwrap_or_default()).await
    }

    /// Like `publish_with`, with any kind of `Change`.
    pub async fn publish_change(
        &self,
        user_id: Uuid,
        name: &str,
        session_id: Option<Uuid>,
        data: serde_json::Value,
        change: Change,
    ) -> Result<Arc<Event>, DbErr> {
        let timing = PublishTiming::start(&self.tracer, name);
        let publish = Publish { user_id, name: name.to_owned(), session_id, data, change, at: Utc::now() };
        let (reply, answer) = oneshot::channel();
        let result = match self.enqueue(publish, Reply::Wait(reply)).await {
            Ok(()) => {
                answer.await.unwrap_or_else(|_| Err(DbErr::Custom("the event writer dropped the publish".into())))
            }
            Err(e) => Err(e),
        };
        timing.finish(&result);
        result
    }

    /// Queues a publish and returns once it is queued, without waiting for its commit:
    /// `then` runs in the writer with the answer, after the batch committed (or failed) and
    /// after its event was delivered. It must be quick and must not block. Publishes queued
    /// one after the other by one task are stored and delivered in that order. An error
    /// here means it was not queued (and `then` does not run).
    pub async fn submit(
        &self,
        user_id: Uuid,
        name: &str,
        session_id: Option<Uuid>,
        data: serde_json::Value,
        change: Change,
        then: impl FnOnce(Answer) + Send + 'static,
    ) -> Result<(), DbErr> {
        let timing = PublishTiming::start(&self.tracer, name);
        let publish = Publish { user_id, name: name.to_owned(), session_id, data, change, at: Utc::now() };
        let then: Then = Box::new(move |answer: Answer| {
            timing.finish(&answer);
            then(answer);
        });
        self.enqueue(publish, Reply::Then(then)).await
    }

    /// Hands the publish to its user's writer (waiting for room in its queue if need be).
    async fn enqueue(&self, publish: Publish, reply: Reply) -> Result<(), DbErr> {
        let user_id = publish.user_id;
        let request = Request { publish, reply };
        // Queued at once when there is room (the common case), so a publish polled once is in.
        let queue = self.queue(user_id);
        let queued = match queue.try_send(request) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Full(request)) => queue.send(request).await.map_err(|_| ()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(()),
        };
        queued.map_err(|()| DbErr::Custom("the event writer has stopped".into()))
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

/// One publish's span and duration, from the call until its answer.
struct PublishTiming {
    started: std::time::Instant,
    span: crate::otel::ActiveSpan,
}

impl PublishTiming {
    fn start(tracer: &crate::otel::Tracer, name: &str) -> Self {
        let mut span = tracer.span("event.publish", crate::otel::Kind::Producer, None);
        span.attr("wahub.event", crate::otel::Value::Str(name.to_owned()));
        Self { started: std::time::Instant::now(), span }
    }

    /// Records the outcome on the span (and ends it) and in the publish-duration metric.
    fn finish(mut self, answer: &Answer) {
        match answer {
            Ok(ev) => {
                crate::metrics::EVENT_PUBLISH_DURATION.observe("", self.started.elapsed());
                self.span.attr("wahub.seq", crate::otel::Value::Int(ev.seq));
            }
            // Nothing to announce (the row was there already) is not a failure.
            Err(DbErr::RecordNotInserted) => {}
            Err(e) => self.span.error(e.to_string()),
        }
        self.span.end();
    }
}

pub struct SocketGuard(Arc<EventHub>);

impl Drop for SocketGuard {
    fn drop(&mut self) {
        self.0.sockets.fetch_sub(1, Ordering::Relaxed);
        crate::metrics::WS_CONNECTIONS.dec();
    }
}
