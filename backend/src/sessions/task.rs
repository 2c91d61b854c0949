//! One task per session: it owns the session's link and state machine, persists every
//! transition, and publishes what changed. Nothing else writes a session's status.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, EntityTrait, IntoActiveModel, Set};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use uuid::Uuid;

use super::context::SessionContext;
use super::live::SharedLive;
use super::machine::{step, Effect, Input, Machine};
use super::types::{PairCodeOut, QrOut, StatusChange};
use crate::db::entities::session;
use crate::domain::backoff::{sleep_until_opt, with_jitter};
use crate::domain::Phone;
use crate::domain::Status;
use crate::engine::{ConnectSpec, EngineEvent, Link};
use crate::error::Problem;
use crate::messages::MessageSender;

pub enum Command {
    /// Apply an input; reply once it is persisted and published.
    Apply(Input, Option<oneshot::Sender<()>>),
    /// Start (or share the start under way); reply once past `starting`.
    Start {
        force_relink: bool,
        reply: oneshot::Sender<()>,
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
}

pub struct SessionTask {
    ctx: Arc<SessionContext>,
    id: Uuid,
    user_id: Uuid,
    machine: Machine,
    live: SharedLive,
    link: Option<Arc<dyn Link>>,
    engine_rx: Option<mpsc::Receiver<EngineEvent>>,
    retry_at: Option<Instant>,
    start_waiters: Vec<oneshot::Sender<()>>,
    sender: MessageSender,
}

impl SessionTask {
    pub fn new(ctx: Arc<SessionContext>, row: &session::Model, live: SharedLive) -> Self {
        let mut machine = Machine::new(Status::parse(&row.status).unwrap_or(Status::Stopped), row.auth_paired);
        // A fresh task has no link: whatever the row says, nothing is running yet.
        if machine.status.is_running() {
            machine.status = Status::Stopped;
        }
        machine.phone = row.phone.as_deref().and_then(|p| Phone::parse(p).ok());
        machine.push_name = row.push_name.clone();
        let interval = Duration::from_millis(ctx.settings.sessions.min_send_interval_ms);
        let sender = MessageSender::new(ctx.messages.clone(), interval, row.id, row.user_id);
        Self {
            ctx,
            id: row.id,
            user_id: row.user_id,
            machine,
            live,
            link: None,
            engine_rx: None,
            retry_at: None,
            start_waiters: Vec::new(),
            sender,
        }
    }

    pub async fn run(mut self, mut commands: mpsc::Receiver<Command>) {
        loop {
            let retry_at = self.retry_at;
            tokio::select! {
                cmd = commands.recv() => match cmd {
                    None => break,
                    Some(Command::Shutdown(reply)) => {
                        self.close_link().await;
                        let _ = reply.send(());
                        break;
                    }
                    Some(Command::Delete(reply)) => {
                        self.apply(Input::Logout).await;
                        let _ = reply.send(());
                        break;
                    }
                    Some(cmd) => self.command(cmd).await,
                },
                ev = recv_engine(&mut self.engine_rx) => match ev {
                    Some(ev) => self.engine_event(ev).await,
                    None => {
                        // The engine dropped its sender: the link is gone.
                        self.engine_rx = None;
                        if self.machine.status.is_running() && self.machine.status != Status::Reconnecting {
                            self.apply(Input::Engine(EngineEvent::Disconnected {
                                reason: crate::engine::DisconnectReason::Network("link closed".into()),
                            })).await;
                        }
                    }
                },
                _ = sleep_until_opt(retry_at) => {
                    self.retry_at = None;
                    self.apply(Input::RetryDue).await;
                }
            }
        }
        self.sender.stop();
        if let Some(phone) = &self.machine.phone {
            self.ctx.claims.release(phone, self.id);
        }
    }

    async fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Apply(input, reply) => {
                self.apply(input).await;
                if let Some(reply) = reply {
                    let _ = reply.send(());
                }
            }
            Command::Start { force_relink, reply } => {
                self.apply(Input::Start { force_relink }).await;
                if self.machine.status == Status::Starting {
                    self.start_waiters.push(reply);
                } else {
                    let _ = reply.send(());
                }
            }
            Command::PairCode { phone, reply } => {
                let _ = reply.send(self.pair_code(phone).await);
            }
            Command::Flush => {
                if self.machine.status == Status::Connected {
                    if let Some(link) = &self.link {
                        self.sender.nudge(link.clone());
                    }
                }
            }
            Command::Shutdown(_) | Command::Delete(_) => {}
        }
    }

    async fn pair_code(&mut self, phone: Phone) -> Result<PairCodeOut, Problem> {
        if self.machine.auth_paired {
            return Err(Problem::conflict("already_paired", "This session is already linked. Log out first."));
        }
        if !matches!(self.machine.status, Status::ScanQr | Status::Starting) {
            self.apply(Input::Start { force_relink: false }).await;
        }
        let Some(link) = self.link.clone() else {
            return Err(Problem::conflict("session_not_started", "The session could not be started."));
        };
        let code =
            link.pair_with_code(&phone).await.map_err(|e| Problem::conflict("pair_code_failed", e.to_string()))?;
        // Publish now so the code is on the event stream before the caller hears back;
        // the engine's own PairingCode event for it is then a duplicate and skipped.
        let timeout = std::time::Duration::from_millis(self.ctx.settings.sessions.pair_code_timeout_ms);
        self.apply(Input::Engine(EngineEvent::PairingCode { code: code.clone(), timeout })).await;
        let expires_at = expiry(Utc::now(), timeout);
        Ok(self.live.pair_code().filter(|c| c.code == code).unwrap_or(PairCodeOut { code, expires_at }))
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
                self.apply(Input::DuplicatePhone).await;
                return;
            }
        }
        self.apply(Input::Engine(ev)).await;
    }

    /// Runs the machine, persists and publishes the change, then carries out the effects.
    async fn apply(&mut self, input: Input) {
        let before = self.machine.clone();
        let (after, effects) = step(before.clone(), input, &self.ctx.policy());
        self.machine = after;
        // One clock reading for the transition: the row's `qr_expires_at` and the
        // `session.qr` event's `expires_at` are the same instant.
        let now = Utc::now();
        if let Err(e) = self.persist(&before, &effects, now).await {
            tracing::error!(session_id = %self.id, error = %e, "could not persist session transition");
        }
        for effect in effects {
            self.effect(effect, now).await;
        }
        // Answer waiting starts only after the effects, so a QR on offer is already published.
        if self.machine.status != Status::Starting {
            for waiter in self.start_waiters.drain(..) {
                let _ = waiter.send(());
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
                self.ctx.claims.release(old, self.id);
            }
        }
    }

    async fn persist(
        &mut self,
        before: &Machine,
        effects: &[Effect],
        now: DateTime<Utc>,
    ) -> Result<(), sea_orm::DbErr> {
        let m = &self.machine;
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
        if !status_changed {
            active.update(&self.ctx.db).await?;
            return Ok(());
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
        let change: crate::events::TxnChange =
            Box::new(move |txn| Box::pin(async move { active.update(txn).await.map(|_| ()) }));
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
            Effect::Disconnect => self.close_link().await,
            Effect::LogoutLink => {
                if let Some(link) = &self.link {
                    if let Err(e) = link.logout().await {
                        tracing::warn!(session_id = %self.id, error = %e, "engine logout failed");
                    }
                }
            }
            Effect::WipeKeys => {
                if let Err(e) = self.ctx.keys(self.id).wipe().await {
                    tracing::error!(session_id = %self.id, error = %e, "could not wipe session keys");
                }
            }
            Effect::OfferQr { code, timeout } => {
                let qr = QrOut {
                    value: code,
                    expires_at: expiry(now, timeout),
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
                let out = PairCodeOut { code, expires_at: expiry(now, timeout) };
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
                if let Err(e) =
                    crate::messages::store::store_incoming(&self.ctx.messages, self.id, self.user_id, msg).await
                {
                    tracing::error!(session_id = %self.id, error = %e, "could not store incoming message");
                }
            }
        }
    }

    async fn connect(&mut self) {
        self.close_link().await;
        let (tx, rx) = mpsc::channel(256);
        let spec = ConnectSpec { session_id: self.id, keys: self.ctx.keys(self.id), events: tx };
        match self.ctx.engine.connect(spec).await {
            Ok(link) => {
                self.link = Some(Arc::from(link));
                self.engine_rx = Some(rx);
            }
            Err(e) => {
                tracing::warn!(session_id = %self.id, error = %e, "engine could not connect");
                let ev = EngineEvent::ConnectFailure { reason: e.to_string(), permanent: false };
                Box::pin(self.apply(Input::Engine(ev))).await;
            }
        }
    }

    async fn close_link(&mut self) {
        self.sender.stop();
        self.engine_rx = None;
        if let Some(link) = self.link.take() {
            link.disconnect().await;
        }
    }
}

async fn recv_engine(rx: &mut Option<mpsc::Receiver<EngineEvent>>) -> Option<EngineEvent> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// When something offered now for `timeout` stops being valid.
fn expiry(now: DateTime<Utc>, timeout: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(timeout).unwrap_or_default()
}
