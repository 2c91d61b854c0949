//! One task per session: it owns the session's link and state machine, persists every
//! transition, and publishes what changed. Nothing else writes a session's status.
//!
//! The loop never waits on the network: closing a link, asking for a pairing code and
//! probing a quiet link run beside it and report back, so commands are answered while
//! a link takes its time.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

use super::context::SessionContext;
use super::live::SharedLive;
use super::machine::{step, Effect, Input, Machine};
use super::types::{PairCodeOut, QrOut, StatusChange};
use crate::db::entities::session;
use crate::db::fence::{is_fenced, Fence};
use crate::domain::backoff::{sleep_until_opt, with_jitter};
use crate::domain::Phone;
use crate::domain::{reason, Status};
use crate::engine::{ConnectSpec, DisconnectReason, EngineError, EngineEvent, Link};
use crate::error::Problem;
use crate::messages::MessageSender;

/// The answer to a command that changes the session.
pub type Reply = oneshot::Sender<Result<(), Problem>>;

pub enum Command {
    /// Apply an input; reply once it is persisted and published.
    Apply(Input, Option<Reply>),
    /// Continue a restore after a server restart; reply once past `starting`.
    Restore(Reply),
    /// Start (or share the start under way); reply once past `starting`.
    Start {
        force_relink: bool,
        reply: Reply,
    },
    PairCode {
        phone: Phone,
        reply: oneshot::Sender<Result<PairCodeOut, Problem>>,
    },
    /// Send queued messages now, if connected.
    Flush,
    /// Close the link for a server shutdown, keeping status and credentials.
    Shutdown(oneshot::Sender<()>),
    /// Unlink, wipe credentials and end the task (the row is deleted by the caller).
    Delete(oneshot::Sender<()>),
    /// This node lost (or may be losing) the session's lease: drop the link at once, write nothing.
    Fenced,
}

/// Work that ran beside the loop, reporting back. `link` names the link it was for,
/// so a report about a link that is gone is ignored.
enum Report {
    PairCode { link: u64, result: Result<String, EngineError>, reply: oneshot::Sender<Result<PairCodeOut, Problem>> },
    Probe { link: u64, alive: bool },
}

/// Attempts to record a transition caused by the network before giving up on it.
const PERSIST_RETRIES: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(400)];
/// How often a session the server could not record is retried as `failed`.
const STORAGE_RETRY: Duration = Duration::from_secs(1);
/// The longest a link may take to close before the task stops waiting for it.
const CLOSE_GRACE: Duration = Duration::from_secs(35);

pub struct SessionTask {
    ctx: Arc<SessionContext>,
    id: Uuid,
    user_id: Uuid,
    machine: Machine,
    live: SharedLive,
    link: Option<Arc<dyn Link>>,
    /// Counts links; the current one's number tags the work started for it.
    link_no: u64,
    engine_rx: Option<mpsc::Receiver<EngineEvent>>,
    /// Closing the previous link (logout, disconnect, key wipe) beside the loop.
    closing: Option<JoinHandle<()>>,
    /// A connect waits until the previous link has closed.
    connect_when_closed: bool,
    /// The next close unlinks the device first.
    logout_on_close: bool,
    retry_at: Option<Instant>,
    /// A start that brings neither a QR nor a connection by then fails (`start_timeout`).
    start_deadline: Option<Instant>,
    /// When the current link last reported anything (or answered a probe).
    heard_at: Instant,
    probing: bool,
    /// A transition could not be recorded: retry recording the failure then.
    storage_retry_at: Option<Instant>,
    start_waiters: Vec<Reply>,
    sender: MessageSender,
    reports_tx: mpsc::UnboundedSender<Report>,
    reports: mpsc::UnboundedReceiver<Report>,
    /// The lease every write of this task is fenced by.
    fence: Fence,
    /// A write was refused by fencing: the task ends.
    fenced: bool,
    /// The key stores handed to the links opened since the last wipe that links still hold.
    link_keys: Vec<crate::engine::KeyStore>,
}

impl SessionTask {
    pub fn new(ctx: Arc<SessionContext>, row: &session::Model, live: SharedLive, fence: Fence) -> Self {
        let mut machine = Machine::new(Status::parse(&row.status).unwrap_or(Status::Stopped), row.auth_paired);
        machine.reason = row.status_reason.as_deref().and_then(reason::known);
        // A fresh task has no link: whatever the row says, nothing is running yet —
        // except a restore the server marked at startup, which waits for its turn.
        let restoring = machine.status == Status::Starting
            && matches!(machine.reason, Some(reason::SERVER_RESTART | reason::NODE_LOST));
        if machine.status.is_running() && !restoring {
            machine.status = Status::Stopped;
        }
        machine.phone = row.phone.as_deref().and_then(|p| Phone::parse(p).ok());
        machine.push_name = row.push_name.clone();
        let s = &ctx.settings.sessions;
        let sender = MessageSender::new(
            ctx.messages.clone(),
            Duration::from_millis(s.min_send_interval_ms),
            Duration::from_millis(s.ack_timeout_ms),
            row.id,
            row.user_id,
        )
        .fenced(fence.clone());
        let (reports_tx, reports) = mpsc::unbounded_channel();
        Self {
            ctx,
            id: row.id,
            user_id: row.user_id,
            machine,
            live,
            link: None,
            link_no: 0,
            engine_rx: None,
            closing: None,
            connect_when_closed: false,
            logout_on_close: false,
            retry_at: None,
            start_deadline: None,
            heard_at: Instant::now(),
            probing: false,
            storage_retry_at: None,
            start_waiters: Vec::new(),
            sender,
            reports_tx,
            reports,
            fence,
            fenced: false,
            link_keys: Vec::new(),
        }
    }

    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        while !self.fenced {
            let retry_at = self.retry_at;
            let start_deadline = self.start_deadline;
            let probe_at = self.probe_due();
            let storage_retry_at = self.storage_retry_at;
            let connect_waits = self.connect_when_closed;
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None => break,
                    Some(Command::Shutdown(reply)) => {
                        self.close_link();
                        if let Some(closing) = self.closing.take() {
                            let _ = closing.await;
                        }
                        let _ = reply.send(());
                        break;
                    }
                    Some(Command::Delete(reply)) => {
                        let _ = self.apply(Input::Logout).await;
                        let _ = reply.send(());
                        break;
                    }
                    Some(Command::Fenced) => self.lose_lease(),
                    Some(cmd) => self.command(cmd).await,
                },
                ev = recv_engine(&mut self.engine_rx) => match ev {
                    Some(ev) => {
                        self.heard_at = Instant::now();
                        self.engine_event(ev).await;
                    }
                    None => {
                        // The engine dropped its sender: the link is gone.
                        self.engine_rx = None;
                        if self.machine.status.is_running() && self.machine.status != Status::Reconnecting {
                            let _ = self.apply(network_loss("link closed")).await;
                        }
                    }
                },
                Some(report) = self.reports.recv() => self.report(report).await,
                _ = closed(&mut self.closing), if connect_waits => {
                    self.closing = None;
                    self.connect_when_closed = false;
                    self.open_link().await;
                }
                _ = sleep_until_opt(retry_at) => {
                    self.retry_at = None;
                    let _ = self.apply(Input::RetryDue).await;
                }
                _ = sleep_until_opt(start_deadline) => {
                    self.start_deadline = None;
                    tracing::warn!(session_id = %self.id, "no QR and no connection before the start deadline");
                    let _ = self.apply(Input::StartTimeout).await;
                }
                _ = sleep_until_opt(probe_at) => self.probe(),
                _ = sleep_until_opt(storage_retry_at) => {
                    self.storage_retry_at = None;
                    let _ = self.apply(Input::StorageFailed).await;
                }
            }
        }
        // The phone claim stays: it lapses with the lease this task gives back, and the
        // session may already run (and hold its phone) on another node.
        self.sender.stop();
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Apply(input, reply) => {
                let done = self.apply(input).await;
                if let Some(reply) = reply {
                    let _ = reply.send(done);
                }
            }
            Command::Restore(reply) => {
                let done = self.apply(Input::Restore).await;
                self.answer_when_started(reply, done);
            }
            Command::Start { force_relink, reply } => {
                let done = self.apply(Input::Start { force_relink }).await;
                self.answer_when_started(reply, done);
            }
            Command::PairCode { phone, reply } => self.pair_code(phone, reply).await,
            Command::Flush => {
                if self.machine.status == Status::Connected {
                    if let Some(link) = &self.link {
                        self.sender.nudge(link.clone());
                    }
                }
            }
            Command::Shutdown(_) | Command::Delete(_) | Command::Fenced => {}
        }
    }

    fn answer_when_started(&mut self, reply: Reply, done: Result<(), Problem>) {
        if done.is_ok() && self.machine.status == Status::Starting {
            self.start_waiters.push(reply);
        } else {
            let _ = reply.send(done);
        }
    }

    /// Asks the link for a pairing code beside the loop (an engine may take many seconds).
    async fn pair_code(&mut self, phone: Phone, reply: oneshot::Sender<Result<PairCodeOut, Problem>>) {
        if self.machine.auth_paired {
            let _ =
                reply.send(Err(Problem::conflict("already_paired", "This session is already linked. Log out first.")));
            return;
        }
        if !matches!(self.machine.status, Status::ScanQr | Status::Starting) {
            if let Err(e) = self.apply(Input::Start { force_relink: false }).await {
                let _ = reply.send(Err(e));
                return;
            }
        }
        let Some(link) = self.link.clone() else {
            let _ = reply.send(Err(Problem::conflict("session_not_started", "The session could not be started.")));
            return;
        };
        let (no, reports) = (self.link_no, self.reports_tx.clone());
        tokio::spawn(async move {
            let result = link.pair_with_code(&phone).await;
            let _ = reports.send(Report::PairCode { link: no, result, reply });
        });
    }

    async fn report(&mut self, report: Report) {
        match report {
            Report::PairCode { link, result, reply } => {
                if link != self.link_no || self.link.is_none() {
                    let _ = reply.send(Err(Problem::conflict("pair_code_failed", "The link closed meanwhile.")));
                    return;
                }
                let code = match result {
                    Ok(code) => code,
                    Err(e) => {
                        let _ = reply.send(Err(Problem::conflict("pair_code_failed", e.to_string())));
                        return;
                    }
                };
                // Publish now so the code is on the event stream before the caller hears back;
                // the engine's own PairingCode event for it is then a duplicate and skipped.
                let timeout = Duration::from_millis(self.ctx.settings.sessions.pair_code_timeout_ms);
                let ev = EngineEvent::PairingCode { code: code.clone(), timeout };
                if let Err(e) = self.apply(Input::Engine(ev)).await {
                    let _ = reply.send(Err(e));
                    return;
                }
                let expires_at = expiry(Utc::now(), timeout).into();
                let out = self.live.pair_code().filter(|c| c.code == code).unwrap_or(PairCodeOut { code, expires_at });
                let _ = reply.send(Ok(out));
            }
            Report::Probe { link, alive } => {
                if link != self.link_no {
                    return;
                }
                self.probing = false;
                if alive {
                    self.heard_at = Instant::now();
                } else if self.machine.status == Status::Connected {
                    tracing::warn!(session_id = %self.id, "the link answered no liveness probe; reconnecting");
                    let _ = self.apply(network_loss("no answer to a liveness probe")).await;
                }
            }
        }
    }

    /// When a quiet connected link is due for a liveness probe.
    fn probe_due(&self) -> Option<Instant> {
        let idle = Duration::from_millis(self.ctx.settings.sessions.liveness_idle_ms);
        let quiet_link = self.machine.status == Status::Connected && self.link.is_some() && !self.probing;
        quiet_link.then(|| self.heard_at + idle)
    }

    fn probe(&mut self) {
        let Some(link) = self.link.clone() else { return };
        self.probing = true;
        let wait = Duration::from_millis(self.ctx.settings.sessions.liveness_probe_timeout_ms);
        let (no, reports) = (self.link_no, self.reports_tx.clone());
        tokio::spawn(async move {
            let alive = matches!(tokio::time::timeout(wait, link.probe()).await, Ok(Ok(())));
            let _ = reports.send(Report::Probe { link: no, alive });
        });
    }

    async fn engine_event(&mut self, ev: EngineEvent) {
        let ev = ev.without_nul();
        // A phone may be held by only one active session: claim before accepting it.
        let phone = match &ev {
            EngineEvent::PairingStarted { phone } | EngineEvent::PairSuccess { phone, .. } => Some(phone.clone()),
            EngineEvent::Connected { phone, .. } => phone.clone().or_else(|| self.machine.phone.clone()),
            _ => None,
        };
        if let Some(phone) = phone {
            if !self.ctx.claims.claim(&self.ctx.db, &phone, self.id).await {
                tracing::warn!(session_id = %self.id, "phone already linked to another active session");
                self.machine.phone = Some(phone);
                let _ = self.apply(Input::DuplicatePhone).await;
                return;
            }
        }
        let _ = self.apply(Input::Engine(ev)).await;
    }

    /// Runs the machine, persists and publishes the change, then carries out the effects.
    /// When the change cannot be recorded, the session keeps its previous state and no
    /// effect runs: a user's command answers 503; a change the network caused is retried,
    /// then the link is closed and the session ends `failed`/`storage_error` as soon as
    /// that can be recorded.
    async fn apply(&mut self, input: Input) -> Result<(), Problem> {
        let before = self.machine.clone();
        let from_user = matches!(input, Input::Start { .. } | Input::Stop | Input::Logout | Input::IdleTimeout);
        let storage_failure = input == Input::StorageFailed;
        let (after, effects) = step(before.clone(), input, &self.ctx.policy());
        // One clock reading for the transition: the row's `qr_expires_at` and the
        // `session.qr` event's `expires_at` are the same instant.
        let now = Utc::now();
        let mut persisted = self.persist(&before, &after, &effects, now).await;
        if !from_user && !storage_failure {
            for pause in PERSIST_RETRIES {
                if persisted.as_ref().err().is_none_or(is_fenced) {
                    break;
                }
                tokio::time::sleep(pause).await;
                persisted = self.persist(&before, &after, &effects, now).await;
            }
        }
        if matches!(&persisted, Err(e) if is_fenced(e)) {
            tracing::warn!(session_id = %self.id, "write refused: the session's lease is gone; dropping the link");
            self.lose_lease();
            return Err(
                Problem::unavailable("This session now runs on another node.").with_code("session_owner_unavailable")
            );
        }
        if let Err(e) = persisted {
            tracing::error!(session_id = %self.id, error = %e, "could not persist session transition; keeping the previous state");
            crate::metrics::SESSION_PERSIST_FAILURES.inc();
            if !from_user {
                // What the link does next could not be recorded either: stop it, and
                // fail the session visibly once the database takes writes again.
                self.close_link();
                self.storage_retry_at = Some(Instant::now() + STORAGE_RETRY);
            }
            return Err(Problem::unavailable("The session's change could not be saved; try again.")
                .with_code("storage_unavailable"));
        }
        self.machine = after;
        for effect in effects {
            self.effect(effect, now).await;
        }
        if self.machine.status != Status::Starting {
            self.start_deadline = None;
            // Answer waiting starts only after the effects, so a QR on offer is already published.
            for waiter in self.start_waiters.drain(..) {
                let _ = waiter.send(Ok(()));
            }
        }
        if before.status != self.machine.status && matches!(self.machine.status, Status::Failed | Status::LoggedOut) {
            let why = format!("{}: {}", self.machine.status.as_str(), self.machine.reason.unwrap_or("unknown"));
            if let Err(e) = crate::messages::store::fail_queued(&self.ctx.messages, self.user_id, self.id, &why).await {
                tracing::error!(session_id = %self.id, error = %e, "could not fail queued messages");
            }
        }
        if let Some(old) = &before.phone {
            let still_held = self.machine.status.holds_phone() && self.machine.phone.as_ref() == Some(old);
            if !still_held {
                self.ctx.claims.release(&self.ctx.db, old, self.id).await;
            }
        }
        Ok(())
    }

    async fn persist(
        &self,
        before: &Machine,
        m: &Machine,
        effects: &[Effect],
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        let qr_change = effects.iter().find_map(|e| match e {
            Effect::OfferQr { timeout, .. } => Some(Some(expiry(now, *timeout))),
            Effect::ClearQr => Some(None),
            _ => None,
        });
        let status_changed = before.status != m.status
            || before.reason != m.reason
            || before.auth_paired != m.auth_paired
            || before.socket_open != m.socket_open
            || before.phone != m.phone
            || before.push_name != m.push_name;
        if !status_changed && qr_change.is_none() {
            return Ok(());
        }
        let Some(row) = session::Entity::find_by_id(self.id).one(&self.ctx.db).await? else {
            return Ok(());
        };
        let mut active = row.into_active_model();
        active.status = Set(m.status.as_str().to_owned());
        active.status_reason = Set(m.reason.map(str::to_owned));
        active.auth_paired = Set(m.auth_paired);
        active.socket_open = Set(m.socket_open);
        active.phone = Set(m.phone.as_ref().map(|p| p.as_str().to_owned()));
        active.push_name = Set(m.push_name.clone());
        active.updated_at = Set(now);
        if let Some(qr) = qr_change {
            active.qr_expires_at = Set(qr);
        }
        if m.status == Status::Connected && before.status != Status::Connected {
            active.last_connected_at = Set(Some(now));
            active.last_activity_at = Set(Some(now));
        }
        if before.status == Status::Connected && m.status != Status::Connected {
            active.last_disconnected_at = Set(Some(now));
        }
        if m.status == Status::Starting && before.status != Status::Starting {
            active.last_activity_at = Set(Some(now));
        }
        let fence = self.fence.clone();
        if !status_changed {
            let txn = sea_orm::TransactionTrait::begin(&self.ctx.db).await?;
            fence.check(&txn).await?;
            active.update(&txn).await?;
            return txn.commit().await;
        }
        let data = StatusChange {
            status: m.status,
            previous: before.status,
            reason: m.reason,
            auth_paired: m.auth_paired,
            socket_open: m.socket_open,
            phone: m.phone.as_ref().map(Phone::as_str),
            push_name: m.push_name.as_deref(),
        }
        .to_json();
        // The row and the event announcing it commit together: a reader never sees one
        // without the other.
        let change: crate::events::TxnChange = Box::new(move |txn| {
            Box::pin(async move {
                fence.check(txn).await?;
                active.update(txn).await.map(|_| ())
            })
        });
        self.ctx.hub.publish_with(self.user_id, "session.status", Some(self.id), data, Some(change)).await?;
        Ok(())
    }

    async fn publish(&self, name: &str, data: serde_json::Value) {
        if let Err(e) = self.ctx.hub.publish(self.user_id, name, Some(self.id), data).await {
            tracing::error!(session_id = %self.id, error = %e, event = name, "could not publish event");
        }
    }

    async fn effect(&mut self, effect: Effect, now: DateTime<Utc>) {
        match effect {
            Effect::Connect => self.connect().await,
            Effect::Disconnect => self.close_link(),
            Effect::LogoutLink => self.logout_on_close = self.link.is_some(),
            Effect::WipeKeys => self.wipe_keys().await,
            Effect::OfferQr { code, timeout } => {
                let qr = QrOut {
                    value: code,
                    expires_at: expiry(now, timeout).into(),
                    attempt: self.machine.qr_attempt,
                    max_attempts: self.ctx.settings.sessions.qr_max_attempts,
                };
                self.live.set_qr(Some(qr.clone()));
                self.publish("session.qr", serde_json::to_value(&qr).unwrap_or_default()).await;
            }
            Effect::OfferPairCode { code, timeout } => {
                if self.live.pair_code().is_some_and(|c| c.code == code) {
                    return;
                }
                let out = PairCodeOut { code, expires_at: expiry(now, timeout).into() };
                self.live.set_pair_code(Some(out.clone()));
                self.publish("session.pair_code", serde_json::to_value(&out).unwrap_or_default()).await;
            }
            Effect::ClearQr => {
                self.live.set_qr(None);
                self.live.set_pair_code(None);
            }
            Effect::ScheduleRetry(delay) => {
                self.retry_at = Some(Instant::now() + with_jitter(delay));
            }
            Effect::FlushOutbox => {
                if let Some(link) = &self.link {
                    self.sender.nudge(link.clone());
                }
            }
            Effect::StoreIncoming(msg) => {
                // Queued, not awaited: the next message can join the same batch. The writer
                // acknowledges it to the network once committed; this session's later
                // events queue behind it, so they are stored and announced after it.
                if let Err(e) =
                    crate::messages::store::submit_incoming(&self.ctx.messages, self.id, self.user_id, msg).await
                {
                    tracing::error!(session_id = %self.id, error = %e, "could not queue incoming message");
                }
            }
            Effect::ApplyReceipt(receipt) => self.sender.receipt(receipt).await,
        }
    }

    /// Wipes stored credentials — after the closing link is done with them, if one is closing;
    /// the links' own stores are retired first, so none of their late writes survives the wipe.
    async fn wipe_keys(&mut self) {
        let keys = self.ctx.keys(self.id).fenced(self.fence.clone());
        let retired = std::mem::take(&mut self.link_keys);
        let id = self.id;
        let wipe = async move {
            for store in retired {
                store.retire().await;
            }
            if let Err(e) = keys.wipe().await {
                tracing::error!(session_id = %id, error = %e, "could not wipe session keys");
            }
        };
        match self.closing.take() {
            Some(closing) => {
                self.closing = Some(tokio::spawn(async move {
                    let _ = closing.await;
                    wipe.await;
                }));
            }
            None => wipe.await,
        }
    }

    async fn connect(&mut self) {
        self.close_link();
        if self.closing.as_ref().is_some_and(|c| !c.is_finished()) {
            // The old link is still closing; the loop connects once it has.
            self.connect_when_closed = true;
            return;
        }
        self.closing = None;
        self.open_link().await;
    }

    async fn open_link(&mut self) {
        if !matches!(self.machine.status, Status::Starting | Status::Reconnecting) {
            return; // stopped (or given up) while the old link was closing
        }
        let (tx, rx) = mpsc::channel(256);
        let keys = self.ctx.keys(self.id).fenced(self.fence.clone());
        // Stores no link holds any more cannot write: only the others need retiring later.
        self.link_keys.retain(crate::engine::KeyStore::shared);
        self.link_keys.push(keys.clone());
        let spec = ConnectSpec { session_id: self.id, keys, events: tx };
        match self.ctx.engine.connect(spec).await {
            Ok(link) => {
                self.link = Some(Arc::from(link));
                self.link_no += 1;
                self.engine_rx = Some(rx);
                self.heard_at = Instant::now();
                self.probing = false;
                if self.machine.status == Status::Starting {
                    let wait = Duration::from_millis(self.ctx.settings.sessions.start_timeout_ms);
                    self.start_deadline = Some(Instant::now() + wait);
                }
            }
            Err(e) => {
                tracing::warn!(session_id = %self.id, error = %e, "engine could not connect");
                let ev = EngineEvent::ConnectFailure { reason: e.to_string(), permanent: false };
                let _ = Box::pin(self.apply(Input::Engine(ev))).await;
            }
        }
    }

    /// The lease is gone: the link closes now and the task ends without writing anything.
    fn lose_lease(&mut self) {
        crate::metrics::FENCED_WRITES.inc();
        self.logout_on_close = false;
        self.close_link();
        self.fenced = true;
        for waiter in self.start_waiters.drain(..) {
            let _ = waiter
                .send(Err(Problem::unavailable("This session now runs on another node.")
                    .with_code("session_owner_unavailable")));
        }
    }

    /// Closes the link beside the loop (unlinking first if asked); a later connect waits for it.
    fn close_link(&mut self) {
        self.sender.stop();
        self.engine_rx = None;
        self.start_deadline = None;
        self.probing = false;
        let logout = std::mem::take(&mut self.logout_on_close);
        let Some(link) = self.link.take() else { return };
        let previous = self.closing.take();
        let id = self.id;
        self.closing = Some(tokio::spawn(async move {
            if let Some(previous) = previous {
                let _ = previous.await;
            }
            let close = async {
                if logout {
                    if let Err(e) = link.logout().await {
                        tracing::warn!(session_id = %id, error = %e, "engine logout failed");
                    }
                }
                link.disconnect().await;
            };
            if tokio::time::timeout(CLOSE_GRACE, close).await.is_err() {
                tracing::warn!(session_id = %id, "the link did not close in time; dropping it");
            }
        }));
    }
}

fn network_loss(why: &str) -> Input {
    Input::Engine(EngineEvent::Disconnected { reason: DisconnectReason::Network(why.into()) })
}

async fn recv_engine(rx: &mut Option<mpsc::Receiver<EngineEvent>>) -> Option<EngineEvent> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// Resolves once the closing link (if any) is closed.
async fn closed(closing: &mut Option<JoinHandle<()>>) {
    if let Some(handle) = closing {
        let _ = handle.await;
    }
}

/// When something offered now for `timeout` stops being valid.
fn expiry(now: DateTime<Utc>, timeout: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(timeout).unwrap_or_default()
}
