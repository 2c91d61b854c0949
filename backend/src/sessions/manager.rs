//! Finds or spawns the task of a session and talks to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::context::SessionContext;
use super::live::SharedLive;
use super::machine::Input;
use super::task::{Command, SessionTask};
use super::types::{PairCodeOut, QrOut, StatusChange};
use crate::db::entities::session;
use crate::domain::Phone;
use crate::domain::{reason, Status};
use crate::error::Problem;

struct Handle {
    tx: mpsc::Sender<Command>,
    live: SharedLive,
}

#[derive(Clone)]
pub struct SessionManager {
    ctx: Arc<SessionContext>,
    tasks: Arc<Mutex<HashMap<Uuid, Handle>>>,
}

/// How long a `start` waits for the first QR (or the restored connection).
const START_WAIT: Duration = Duration::from_secs(10);

impl SessionManager {
    pub fn new(ctx: Arc<SessionContext>) -> Self {
        Self { ctx, tasks: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Whether an active session anywhere holds this phone (an error when unknown).
    pub async fn phone_in_use(&self, phone: &Phone) -> Result<bool, Problem> {
        Ok(self.ctx.claims.in_use(&self.ctx.db, phone).await?)
    }

    /// The encrypted credential store of one session.
    pub fn keys(&self, session_id: Uuid) -> crate::engine::KeyStore {
        self.ctx.keys(session_id)
    }

    fn sender(&self, row: &session::Model) -> mpsc::Sender<Command> {
        let mut tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = tasks.get(&row.id) {
            if !h.tx.is_closed() {
                return h.tx.clone();
            }
        }
        let (tx, rx) = mpsc::channel(64);
        let live = SharedLive::default();
        let task = SessionTask::new(self.ctx.clone(), row, live.clone());
        let tasks_ref = self.tasks.clone();
        let id = row.id;
        tokio::spawn(async move {
            task.run(rx).await;
            let mut tasks = tasks_ref.lock().unwrap_or_else(|p| p.into_inner());
            if tasks.get(&id).is_some_and(|h| h.tx.is_closed()) {
                tasks.remove(&id);
            }
        });
        tasks.insert(row.id, Handle { tx: tx.clone(), live });
        tx
    }

    fn existing(&self, id: Uuid) -> Option<mpsc::Sender<Command>> {
        let tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.get(&id).filter(|h| !h.tx.is_closed()).map(|h| h.tx.clone())
    }

    async fn send(&self, tx: mpsc::Sender<Command>, cmd: Command) -> Result<(), Problem> {
        tx.send(cmd).await.map_err(|_| Problem::unavailable("The session is shutting down."))
    }

    pub async fn start(&self, row: &session::Model, force_relink: bool) -> Result<(), Problem> {
        let (reply, done) = oneshot::channel();
        self.send(self.sender(row), Command::Start { force_relink, reply }).await?;
        let _ = tokio::time::timeout(START_WAIT, done).await;
        Ok(())
    }

    pub async fn apply(&self, row: &session::Model, input: Input) -> Result<(), Problem> {
        let (reply, done) = oneshot::channel();
        self.send(self.sender(row), Command::Apply(input, Some(reply))).await?;
        done.await.map_err(|_| Problem::unavailable("The session is shutting down."))
    }

    pub async fn pair_code(&self, row: &session::Model, phone: Phone) -> Result<PairCodeOut, Problem> {
        let (reply, done) = oneshot::channel();
        self.send(self.sender(row), Command::PairCode { phone, reply }).await?;
        done.await.map_err(|_| Problem::unavailable("The session is shutting down."))?
    }

    /// Asks a running session to send its queued messages.
    pub async fn flush(&self, id: Uuid) {
        if let Some(tx) = self.existing(id) {
            let _ = tx.send(Command::Flush).await;
        }
    }

    /// Unlinks and forgets a session; the caller deletes the row afterwards.
    pub async fn delete(&self, row: &session::Model) -> Result<(), Problem> {
        let (reply, done) = oneshot::channel();
        self.send(self.sender(row), Command::Delete(reply)).await?;
        let _ = done.await;
        self.tasks.lock().unwrap_or_else(|p| p.into_inner()).remove(&row.id);
        Ok(())
    }

    pub fn qr(&self, id: Uuid) -> Option<QrOut> {
        let tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        tasks.get(&id).and_then(|h| h.live.qr())
    }

    /// QR codes on offer for these sessions.
    pub fn qrs(&self, ids: impl IntoIterator<Item = Uuid>) -> HashMap<Uuid, QrOut> {
        let tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
        ids.into_iter().filter_map(|id| tasks.get(&id).and_then(|h| h.live.qr()).map(|qr| (id, qr))).collect()
    }

    pub fn live_count(&self) -> usize {
        self.tasks.lock().map(|t| t.len()).unwrap_or(0)
    }

    /// After a restart: reconnects every paired session that was running; sessions that
    /// were only offering a QR are marked stopped (their QR died with the old process).
    pub async fn restore(&self) -> Result<usize, sea_orm::DbErr> {
        let running = [Status::Starting, Status::ScanQr, Status::Pairing, Status::Connected, Status::Reconnecting];
        let rows = session::Entity::find()
            .filter(session::Column::Status.is_in(running.map(Status::as_str)))
            .all(&self.ctx.db)
            .await?;
        let mut restored = 0;
        for row in rows {
            if row.auth_paired {
                let (reply, _done) = oneshot::channel();
                if self.sender(&row).send(Command::Start { force_relink: false, reply }).await.is_ok() {
                    restored += 1;
                }
            } else {
                self.mark_stopped(&row, reason::SERVER_RESTART).await?;
            }
        }
        Ok(restored)
    }

    async fn mark_stopped(&self, row: &session::Model, why: &str) -> Result<(), sea_orm::DbErr> {
        use sea_orm::{ActiveModelTrait, IntoActiveModel, Set};
        let previous = Status::parse(&row.status).unwrap_or(Status::Stopped);
        let mut active = row.clone().into_active_model();
        active.status = Set(Status::Stopped.as_str().into());
        active.status_reason = Set(Some(why.into()));
        active.socket_open = Set(false);
        active.qr_expires_at = Set(None);
        active.updated_at = Set(chrono::Utc::now());
        active.update(&self.ctx.db).await?;
        let data = StatusChange {
            status: Status::Stopped,
            previous,
            reason: Some(why),
            auth_paired: row.auth_paired,
            socket_open: false,
            phone: row.phone.as_deref(),
            push_name: row.push_name.as_deref(),
        }
        .to_json();
        self.ctx.hub.publish(row.user_id, "session.status", Some(row.id), data).await?;
        Ok(())
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

    /// Closes every link, keeping statuses and credentials so the next start restores them.
    pub async fn shutdown(&self) {
        let senders: Vec<_> = {
            let tasks = self.tasks.lock().unwrap_or_else(|p| p.into_inner());
            tasks.values().map(|h| h.tx.clone()).collect()
        };
        for tx in senders {
            let (reply, done) = oneshot::channel();
            if tx.send(Command::Shutdown(reply)).await.is_ok() {
                let _ = tokio::time::timeout(Duration::from_secs(5), done).await;
            }
        }
    }
}
