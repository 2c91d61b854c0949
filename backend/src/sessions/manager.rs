//! Finds or spawns the task of a session and talks to it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::context::SessionContext;
use super::leases::Acquired;
use super::live::SharedLive;
use super::machine::Input;
use super::route::{RemoteCommand, RemoteReply};
use super::task::{Command, SessionTask};
use super::types::{PairCodeOut, QrOut, SessionOut, StatusChange};
use crate::db::entities::session;
use crate::db::fence::Fence;
use crate::domain::Phone;
use crate::domain::{reason, Status};
use crate::engine::sim::{PhoneError as SimPhoneError, SimEngine};
use crate::engine::sim_phone::{PhoneAction, PhoneAnswer};
use crate::error::Problem;

/// Where a command for a session runs.
enum Target {
    Here(mpsc::Sender<Command>),
    /// Another node runs the session (cluster mode).
    Owner(String),
}

pub(super) struct Handle {
    pub(super) tx: mpsc::Sender<Command>,
    /// The session's owner: sessions never change hands.
    user_id: Uuid,
    live: SharedLive,
    /// When the task got its lease: a renewal sent before then cannot have seen it.
    pub(super) since: tokio::time::Instant,
}

#[derive(Default)]
pub(super) struct Tasks {
    pub(super) running: HashMap<Uuid, Handle>,
    /// Sessions being or already deleted: never given a task again, so a start that
    /// races a delete cannot bring the session back.
    deleted: HashSet<Uuid>,
    /// The server is shutting down: no new tasks.
    pub(super) closed: bool,
}

#[derive(Clone)]
pub struct SessionManager {
    pub(super) ctx: Arc<SessionContext>,
    pub(super) tasks: Arc<Mutex<Tasks>>,
}

/// How long a `start` waits for the first QR (or the restored connection).
const START_WAIT: Duration = Duration::from_secs(10);
/// The longest one restored session holds its reconnect turn.
const RESTORE_TURN: Duration = Duration::from_secs(30);

impl SessionManager {
    pub fn new(ctx: Arc<SessionContext>) -> Self {
        Self { ctx, tasks: Arc::new(Mutex::new(Tasks::default())) }
    }

    /// Whether an active session anywhere holds this phone (an error when unknown).
    pub async fn phone_in_use(&self, phone: &Phone) -> Result<bool, Problem> {
        Ok(self.ctx.claims.in_use(&self.ctx.db, phone).await?)
    }

    /// Cluster mode: the way to the nodes owning other sessions.
    pub fn router(&self) -> Option<super::route::CommandRouter> {
        self.ctx.router.clone()
    }

    /// The encrypted credential store of one session.
    pub fn keys(&self, session_id: Uuid) -> crate::engine::KeyStore {
        self.ctx.keys(session_id)
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Tasks> {
        self.tasks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The one place deciding where a command for a session runs: this node's task
    /// (taking the session's lease first if it has none), or the node holding its lease
    /// (cluster mode, over NATS). `routed`: the command came from another node, so it runs
    /// here or nowhere (no forwarding twice); without a router a session leased elsewhere
    /// answers 503 `session_owner_unavailable` and nothing changes.
    async fn target(&self, row: &session::Model, routed: bool) -> Result<Target, Problem> {
        if let Some(tx) = self.local(row.id)? {
            return Ok(Target::Here(tx));
        }
        match self.ctx.leases.acquire(row.id).await? {
            Acquired::Mine { epoch, .. } => Ok(Target::Here(self.spawn(row, epoch)?)),
            Acquired::Elsewhere { node } if routed => {
                Err(super::route::owner_unavailable(&node, "it no longer runs the session"))
            }
            Acquired::Elsewhere { node } if self.ctx.router.is_none() => {
                Err(super::route::owner_unavailable(&node, "not in cluster mode"))
            }
            Acquired::Elsewhere { node } => Ok(Target::Owner(node)),
        }
    }

    /// Runs `cmd` on `owner` (cluster mode).
    async fn forward(&self, owner: &str, cmd: RemoteCommand) -> Result<RemoteReply, Problem> {
        match &self.ctx.router {
            Some(router) => router.send(owner, &cmd).await,
            None => Err(super::route::owner_unavailable(owner, "not in cluster mode")),
        }
    }

    /// This node's live task of a session, if any; refused once deleted or shutting down.
    fn local(&self, id: Uuid) -> Result<Option<mpsc::Sender<Command>>, Problem> {
        let tasks = self.lock();
        if tasks.deleted.contains(&id) {
            return Err(Problem::not_found("No such session."));
        }
        if tasks.closed {
            return Err(gone());
        }
        Ok(tasks.running.get(&id).filter(|h| !h.tx.is_closed()).map(|h| h.tx.clone()))
    }

    /// Gives a session whose lease (at `epoch`) this node holds its task; the task's
    /// end gives the lease back.
    pub(super) fn spawn(&self, row: &session::Model, epoch: i64) -> Result<mpsc::Sender<Command>, Problem> {
        let mut tasks = self.lock();
        if tasks.deleted.contains(&row.id) {
            return Err(Problem::not_found("No such session."));
        }
        if tasks.closed {
            return Err(gone());
        }
        if let Some(h) = tasks.running.get(&row.id) {
            if !h.tx.is_closed() {
                return Ok(h.tx.clone());
            }
        }
        let (tx, rx) = mpsc::channel(64);
        let live = SharedLive::default();
        let task = SessionTask::new(self.ctx.clone(), row, live.clone(), self.ctx.leases.fence(row.id, epoch));
        let me = self.clone();
        let id = row.id;
        tokio::spawn(async move {
            task.run(rx).await;
            if let Err(e) = me.ctx.leases.release(id, epoch).await {
                tracing::warn!(session_id = %id, error = %e, "could not release the session's lease; it expires");
            }
            let mut tasks = me.lock();
            if tasks.running.get(&id).is_some_and(|h| h.tx.is_closed()) {
                tasks.running.remove(&id);
            }
        });
        tasks
            .running
            .insert(row.id, Handle { tx: tx.clone(), user_id: row.user_id, live, since: tokio::time::Instant::now() });
        Ok(tx)
    }

    /// Sessions as the API shows them, with the node running each (cluster mode).
    pub async fn views(&self, rows: Vec<session::Model>) -> Result<Vec<SessionOut>, Problem> {
        let owners = if self.ctx.cluster {
            let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
            self.ctx.leases.owners(&ids).await?
        } else {
            HashMap::new()
        };
        Ok(rows
            .into_iter()
            .map(|row| {
                let node = owners.get(&row.id).cloned();
                SessionOut { node, ..row.into() }
            })
            .collect())
    }

    pub async fn view(&self, row: session::Model) -> Result<SessionOut, Problem> {
        let mut views = self.views(vec![row]).await?;
        views.pop().ok_or_else(|| Problem::not_found("No such session."))
    }

    /// Whether session `id` runs in this process for `user_id`: then it exists and is
    /// theirs, without asking the database (`false` says nothing either way).
    pub fn runs_here_for(&self, user_id: Uuid, id: Uuid) -> bool {
        self.lock().running.get(&id).is_some_and(|h| h.user_id == user_id && !h.tx.is_closed())
    }

    fn existing(&self, id: Uuid) -> Option<mpsc::Sender<Command>> {
        self.lock().running.get(&id).filter(|h| !h.tx.is_closed()).map(|h| h.tx.clone())
    }

    fn call_timeout(&self) -> Duration {
        Duration::from_millis(self.ctx.settings.sessions.session_call_timeout_ms)
    }

    /// Hands a command to a task and waits for its answer, both within `wait`.
    async fn call<T>(
        &self,
        tx: mpsc::Sender<Command>,
        make: impl FnOnce(oneshot::Sender<T>) -> Command,
        wait: Duration,
    ) -> Result<T, Problem> {
        let deadline = tokio::time::Instant::now() + wait;
        let (reply, done) = oneshot::channel();
        match tokio::time::timeout_at(deadline, tx.send(make(reply))).await {
            Err(_) => return Err(busy()),
            Ok(Err(_)) => return Err(gone()),
            Ok(Ok(())) => {}
        }
        match tokio::time::timeout_at(deadline, done).await {
            Err(_) => Err(busy()),
            Ok(Err(_)) => Err(gone()),
            Ok(Ok(answer)) => Ok(answer),
        }
    }

    /// Starts a session; answers once a QR is on offer or the session is past `starting`,
    /// or after a while with the start still under way.
    pub async fn start(&self, row: &session::Model, force_relink: bool) -> Result<(), Problem> {
        self.start_at(row, force_relink, false).await
    }

    pub(super) async fn start_at(&self, row: &session::Model, force_relink: bool, routed: bool) -> Result<(), Problem> {
        following(routed, || self.start_once(row, force_relink, routed)).await
    }

    async fn start_once(&self, row: &session::Model, force_relink: bool, routed: bool) -> Result<(), Problem> {
        let tx = match self.target(row, routed).await? {
            Target::Here(tx) => tx,
            Target::Owner(node) => {
                return self.forward(&node, RemoteCommand::Start { session_id: row.id, force_relink }).await.map(drop)
            }
        };
        let wait = self.call_timeout().min(START_WAIT);
        match self.call(tx, |reply| Command::Start { force_relink, reply }, wait).await {
            Ok(done) => done,
            // Still starting: the caller shows the session as it is now.
            Err(p) if p.code == "session_busy" => Ok(()),
            Err(p) => Err(p),
        }
    }

    pub async fn apply(&self, row: &session::Model, input: Input) -> Result<(), Problem> {
        self.apply_at(row, input, false).await
    }

    pub(super) async fn apply_at(&self, row: &session::Model, input: Input, routed: bool) -> Result<(), Problem> {
        following(routed, || self.apply_once(row, input.clone(), routed)).await
    }

    async fn apply_once(&self, row: &session::Model, input: Input, routed: bool) -> Result<(), Problem> {
        let tx = match self.target(row, routed).await? {
            Target::Here(tx) => tx,
            Target::Owner(node) => {
                let cmd = match input {
                    Input::Stop => RemoteCommand::Stop { session_id: row.id },
                    Input::Logout => RemoteCommand::Logout { session_id: row.id },
                    // Other inputs come from this node's own machinery, never from a user.
                    _ => return Err(super::route::owner_unavailable(&node, "not a routed command")),
                };
                return self.forward(&node, cmd).await.map(drop);
            }
        };
        self.call(tx, |reply| Command::Apply(input, Some(reply)), self.call_timeout()).await?
    }

    pub async fn pair_code(&self, row: &session::Model, phone: Phone) -> Result<PairCodeOut, Problem> {
        self.pair_code_at(row, phone, false).await
    }

    pub(super) async fn pair_code_at(
        &self,
        row: &session::Model,
        phone: Phone,
        routed: bool,
    ) -> Result<PairCodeOut, Problem> {
        following(routed, || self.pair_code_once(row, phone.clone(), routed)).await
    }

    async fn pair_code_once(&self, row: &session::Model, phone: Phone, routed: bool) -> Result<PairCodeOut, Problem> {
        let tx = match self.target(row, routed).await? {
            Target::Here(tx) => tx,
            Target::Owner(node) => {
                let cmd = RemoteCommand::PairCode { session_id: row.id, phone: phone.as_str().to_owned() };
                return match self.forward(&node, cmd).await? {
                    RemoteReply::PairCode { code, expires_at } => {
                        Ok(PairCodeOut { code, expires_at: expires_at.into() })
                    }
                    other => Err(Problem::internal(format!("node {node} answered a pair-code with {other:?}"))),
                };
            }
        };
        self.call(tx, |reply| Command::PairCode { phone, reply }, self.call_timeout()).await?
    }

    /// In cluster mode, the other node running this session (`None` when it runs here,
    /// nowhere, or on a single node).
    pub async fn runs_elsewhere(&self, id: Uuid) -> Result<Option<String>, Problem> {
        let Some(router) = &self.ctx.router else { return Ok(None) };
        if self.existing(id).is_some() {
            return Ok(None);
        }
        Ok(self.ctx.leases.owner(id).await?.filter(|owner| owner != router.node_id()))
    }

    /// Runs an action of the session's simulated phone where the phone is: in the process
    /// running the session's link (this one, or its owner's in a cluster).
    pub async fn phone(&self, sim: &SimEngine, id: Uuid, action: PhoneAction) -> Result<PhoneAnswer, Problem> {
        let Some(owner) = self.runs_elsewhere(id).await? else { return self.phone_here(sim, id, action).await };
        match self.forward(&owner, RemoteCommand::Phone { session_id: id, action }).await? {
            RemoteReply::Phone { answer } => Ok(answer),
            other => Err(Problem::internal(format!("node {owner} answered a phone action with {other:?}"))),
        }
    }

    pub(super) async fn phone_here(
        &self,
        sim: &SimEngine,
        id: Uuid,
        action: PhoneAction,
    ) -> Result<PhoneAnswer, Problem> {
        sim.act(id, &self.keys(id), action).await.map_err(|e| match e {
            SimPhoneError::NoQr => Problem::conflict("no_qr", e.to_string()),
            SimPhoneError::NotConnected => Problem::conflict("session_not_connected", e.to_string()),
        })
    }

    /// Asks a running session to send its queued messages, on whichever node runs it.
    pub async fn flush(&self, id: Uuid) {
        if self.flush_here(id).await {
            return;
        }
        let owner = match self.runs_elsewhere(id).await {
            Ok(Some(owner)) => owner,
            Ok(None) => return,
            Err(p) => {
                tracing::warn!(session_id = %id, problem = %p.detail, "cannot tell which node sends this session's messages");
                return;
            }
        };
        // Not reached now, the owner still sends them on its next nudge or reconnect.
        if let Err(p) = self.forward(&owner, RemoteCommand::Flush { session_id: id }).await {
            tracing::warn!(session_id = %id, owner, problem = %p.detail, "could not ask the owner to send now");
        }
    }

    /// Asks this node's task of the session (if any) to send its queued messages.
    pub(super) async fn flush_here(&self, id: Uuid) -> bool {
        match self.existing(id) {
            Some(tx) => tx.send(Command::Flush).await.is_ok(),
            None => false,
        }
    }

    /// Unlinks and forgets a session for good; the caller deletes the row afterwards.
    /// From here on no start can give it a task again.
    pub async fn delete(&self, row: &session::Model) -> Result<(), Problem> {
        let tx = {
            let mut tasks = self.lock();
            if !tasks.deleted.insert(row.id) {
                return Err(Problem::not_found("No such session."));
            }
            tasks.running.get(&row.id).filter(|h| !h.tx.is_closed()).map(|h| h.tx.clone())
        };
        // A task that does not answer in time still gets the command and unlinks later;
        // the delete goes ahead (the row's keys go with it).
        let unlinked = match tx {
            Some(tx) => self.call(tx, Command::Delete, self.call_timeout()).await.is_ok(),
            None => false,
        };
        self.lock().running.remove(&row.id);
        if !unlinked {
            self.ctx.keys(row.id).wipe().await.map_err(Problem::internal)?;
        }
        Ok(())
    }

    pub fn qr(&self, id: Uuid) -> Option<QrOut> {
        self.lock().running.get(&id).and_then(|h| h.live.qr())
    }

    /// QR codes on offer for these sessions on this node.
    pub fn qrs(&self, ids: impl IntoIterator<Item = Uuid>) -> HashMap<Uuid, QrOut> {
        let tasks = self.lock();
        ids.into_iter().filter_map(|id| tasks.running.get(&id).and_then(|h| h.live.qr()).map(|qr| (id, qr))).collect()
    }

    /// QR codes on offer for these sessions wherever they run: in cluster mode the nodes
    /// owning the others are asked — only for sessions whose row says they offer one (a
    /// node that does not answer shows no QR).
    pub async fn qrs_anywhere(&self, rows: &[session::Model]) -> Result<HashMap<Uuid, QrOut>, Problem> {
        let mut found = self.qrs(rows.iter().map(|r| r.id));
        let Some(router) = &self.ctx.router else { return Ok(found) };
        let offering = |r: &&session::Model| r.status == Status::ScanQr.as_str() && !found.contains_key(&r.id);
        let elsewhere: Vec<Uuid> = rows.iter().filter(offering).map(|r| r.id).collect();
        if elsewhere.is_empty() {
            return Ok(found);
        }
        let owners = self.ctx.leases.owners(&elsewhere).await?;
        let asks = owners.into_iter().filter(|(_, owner)| owner != router.node_id()).map(|(id, owner)| async move {
            match self.forward(&owner, RemoteCommand::Qr { session_id: id }).await {
                Ok(RemoteReply::Qr { qr }) => qr.map(|qr| (id, qr)),
                _ => None,
            }
        });
        found.extend(futures_util::future::join_all(asks).await.into_iter().flatten());
        Ok(found)
    }

    /// Sessions that have a task right now.
    pub fn live_count(&self) -> usize {
        self.lock().running.values().filter(|h| !h.tx.is_closed()).count()
    }

    /// After a restart, before anything is served: every paired session that was running
    /// is marked `starting` (reason `server_restart`: its link is not up yet, whatever the
    /// row said) and reconnected in the background, a few at a time; sessions that were
    /// only offering a QR are marked stopped (their QR died with the old process).
    pub async fn restore(&self) -> Result<usize, sea_orm::DbErr> {
        if self.ctx.cluster {
            // Placement adopts the sessions no live node holds; the others run elsewhere.
            return Ok(0);
        }
        let running = [Status::Starting, Status::ScanQr, Status::Pairing, Status::Connected, Status::Reconnecting];
        let rows = session::Entity::find()
            .filter(session::Column::Status.is_in(running.map(Status::as_str)))
            .all(&self.ctx.db)
            .await?;
        let mut restoring = Vec::new();
        for row in rows {
            let status = if row.auth_paired { Status::Starting } else { Status::Stopped };
            let epoch = match self.ctx.leases.acquire(row.id).await? {
                Acquired::Mine { epoch, .. } => epoch,
                Acquired::Elsewhere { .. } => continue,
            };
            let fence = self.ctx.leases.fence(row.id, epoch);
            match self.mark(&row, status, reason::SERVER_RESTART, &fence).await {
                Ok(marked) if row.auth_paired => restoring.push((marked, epoch)),
                Ok(_) => self.ctx.leases.release(row.id, epoch).await?,
                // Deleted meanwhile, most likely; the others still come back.
                Err(e) => tracing::warn!(session_id = %row.id, error = %e, "could not mark a session for restore"),
            }
        }
        let count = restoring.len();
        let me = self.clone();
        let jitter = self.ctx.settings.sessions.restore_jitter_ms;
        tokio::spawn(async move { me.reconnect_staggered(restoring, jitter).await });
        Ok(count)
    }

    /// At most `restore_concurrency` sessions connect at once, each after a random wait
    /// of up to `jitter` ms.
    pub(super) async fn reconnect_staggered(self, rows: Vec<(session::Model, i64)>, jitter: u64) {
        let s = &self.ctx.settings.sessions;
        let permits = Arc::new(tokio::sync::Semaphore::new(s.restore_concurrency.max(1) as usize));
        let mut turns = tokio::task::JoinSet::new();
        for (row, epoch) in rows {
            let me = self.clone();
            let permits = permits.clone();
            let wait = Duration::from_millis(rand::Rng::gen_range(&mut rand::thread_rng(), 0..=jitter));
            turns.spawn(async move {
                tokio::time::sleep(wait).await;
                let Ok(_turn) = permits.acquire_owned().await else { return };
                let Ok(tx) = me.spawn(&row, epoch) else { return };
                let (reply, done) = oneshot::channel();
                if tx.send(Command::Restore(reply)).await.is_ok() {
                    // The turn ends once the session is past `starting` (or gave up).
                    let _ = tokio::time::timeout(RESTORE_TURN, done).await;
                }
            });
        }
        while turns.join_next().await.is_some() {}
    }

    /// Writes a status the server decides for a session without a task, with its event,
    /// fenced by the lease this node just took.
    pub(super) async fn mark(
        &self,
        row: &session::Model,
        status: Status,
        why: &str,
        fence: &Fence,
    ) -> Result<session::Model, sea_orm::DbErr> {
        use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
        let previous = Status::parse(&row.status).unwrap_or(Status::Stopped);
        let mut active = row.clone().into_active_model();
        active.status = Set(status.as_str().into());
        active.status_reason = Set(Some(why.into()));
        active.socket_open = Set(false);
        active.qr_expires_at = Set(None);
        active.updated_at = Set(chrono::Utc::now());
        if status == Status::Starting {
            active.last_activity_at = Set(Some(chrono::Utc::now()));
        }
        let data = StatusChange {
            status,
            previous,
            reason: Some(why),
            auth_paired: row.auth_paired,
            socket_open: false,
            phone: row.phone.as_deref(),
            push_name: row.push_name.as_deref(),
        }
        .to_json();
        let (tx, rx) = oneshot::channel();
        let fence = fence.clone();
        let change: crate::events::TxnChange = Box::new(move |txn| {
            Box::pin(async move {
                fence.check(txn).await?;
                let _ = tx.send(active.update(txn).await?);
                Ok(())
            })
        });
        self.ctx.hub.publish_with(row.user_id, "session.status", Some(row.id), data, Some(change)).await?;
        rx.await.map_err(|_| sea_orm::DbErr::Custom("session row not updated".into()))
    }

    /// Stops sessions that saw no activity for `idle_timeout_secs`.
    pub async fn stop_idle(&self) -> Result<usize, sea_orm::DbErr> {
        let cutoff =
            chrono::Utc::now() - chrono::Duration::seconds(self.ctx.settings.sessions.idle_timeout_secs as i64);
        let rows = session::Entity::find()
            .filter(
                session::Column::Status.is_in(
                    [Status::Connected, Status::ScanQr, Status::Reconnecting, Status::Starting, Status::Pairing]
                        .map(Status::as_str),
                ),
            )
            .filter(session::Column::LastActivityAt.lt(cutoff))
            .all(&self.ctx.db)
            .await?;
        let mut stopped = 0;
        for row in rows {
            if self.apply(&row, Input::IdleTimeout).await.is_ok() {
                stopped += 1;
            }
        }
        Ok(stopped)
    }

    /// Closes every link in parallel within `shutdown_timeout_ms`, keeping statuses and
    /// credentials so the next start restores them. No task starts after this.
    pub async fn shutdown(&self) {
        let senders: Vec<_> = {
            let mut tasks = self.lock();
            tasks.closed = true;
            tasks.running.values().map(|h| h.tx.clone()).collect()
        };
        let deadline =
            tokio::time::Instant::now() + Duration::from_millis(self.ctx.settings.sessions.shutdown_timeout_ms);
        let closes = senders.into_iter().map(|tx| async move {
            let (reply, done) = oneshot::channel();
            if let Ok(Ok(())) = tokio::time::timeout_at(deadline, tx.send(Command::Shutdown(reply))).await {
                let _ = tokio::time::timeout_at(deadline, done).await;
            }
        });
        futures_util::future::join_all(closes).await;
        // Tasks give their leases back as they end; whatever is left goes now, so other
        // nodes take the sessions over at once instead of after the TTL.
        if let Err(e) = self.ctx.leases.release_all().await {
            tracing::warn!(error = %e, "could not release this node's leases; they expire");
        }
    }
}

/// Pauses before asking again where a session runs, while its lease changes hands.
const HANDOVER_PAUSES: [Duration; 3] =
    [Duration::from_millis(50), Duration::from_millis(200), Duration::from_millis(600)];

/// A command racing a lease hand-over (drain, rebalancing, failover) follows the session
/// to its new owner: a task that lost its lease, or one that ended meanwhile, answers
/// before changing anything, so asking again where the session runs now is safe. A routed
/// command is the origin's to retry (it runs here or nowhere).
async fn following<T, F, Fut>(routed: bool, mut attempt: F) -> Result<T, Problem>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Problem>>,
{
    let mut pauses = HANDOVER_PAUSES.iter();
    loop {
        match attempt().await {
            Err(p) if !routed && moved(&p) => match pauses.next() {
                Some(pause) => tokio::time::sleep(*pause).await,
                None => return Err(p),
            },
            done => return done,
        }
    }
}

/// The session's task lost its lease or ended while the command was on its way.
fn moved(p: &Problem) -> bool {
    p.code == "session_owner_unavailable" || p.code == gone().code
}

fn busy() -> Problem {
    Problem::unavailable("The session is busy; try again.").with_code("session_busy")
}

fn gone() -> Problem {
    Problem::unavailable("The session is shutting down.")
}
