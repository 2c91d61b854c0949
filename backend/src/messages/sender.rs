//! Sends a session's queued messages, oldest first, one at a time, keeping the
//! configured minimum interval between sends. Messages stay queued in the database
//! until the engine accepted them, so a dropped link or a restart loses none.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::store::{set_status, touch_activity, MessageStore};
use super::types::MediaIn;
use crate::db::entities::message;
use crate::domain::Phone;
use crate::engine::{EngineError, Link, Outgoing};

pub struct MessageSender {
    store: MessageStore,
    interval: Duration,
    session_id: Uuid,
    user_id: Uuid,
    worker: Option<(JoinHandle<()>, Arc<Notify>)>,
    /// Outlives workers, so the interval also holds across a reconnect.
    last_send: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
}

impl MessageSender {
    pub fn new(store: MessageStore, interval: Duration, session_id: Uuid, user_id: Uuid) -> Self {
        Self { store, interval, session_id, user_id, worker: None, last_send: Arc::default() }
    }

    /// Makes sure a worker is sending over `link`.
    pub fn nudge(&mut self, link: Arc<dyn Link>) {
        if let Some((handle, notify)) = &self.worker {
            if !handle.is_finished() {
                notify.notify_one();
                return;
            }
        }
        let notify = Arc::new(Notify::new());
        let worker = Worker {
            store: self.store.clone(),
            interval: self.interval,
            session_id: self.session_id,
            user_id: self.user_id,
            link,
            notify: notify.clone(),
            last_send: self.last_send.clone(),
        };
        self.worker = Some((tokio::spawn(worker.run()), notify));
    }

    pub fn stop(&mut self) {
        if let Some((handle, _)) = self.worker.take() {
            handle.abort();
        }
    }
}

impl Drop for MessageSender {
    fn drop(&mut self) {
        self.stop();
    }
}

struct Worker {
    store: MessageStore,
    interval: Duration,
    session_id: Uuid,
    user_id: Uuid,
    link: Arc<dyn Link>,
    notify: Arc<Notify>,
    last_send: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
}

enum Outcome {
    Sent(String),
    Failed(String),
    /// The link is gone: leave the message queued for the next connection.
    Retry,
}

impl Worker {
    async fn run(self) {
        let interval = self.interval;
        loop {
            let next = message::Entity::find()
                .filter(message::Column::SessionId.eq(self.session_id))
                .filter(message::Column::Direction.eq("out"))
                .filter(message::Column::Status.eq("queued"))
                .order_by_asc(message::Column::CreatedAt)
                .order_by_asc(message::Column::Id)
                .one(&self.store.db)
                .await;
            let msg = match next {
                Ok(Some(msg)) => msg,
                Ok(None) => {
                    self.notify.notified().await;
                    continue;
                }
                Err(e) => {
                    tracing::error!(session_id = %self.session_id, error = %e, "cannot read the message queue");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            let last = *self.last_send.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(at) = last {
                tokio::time::sleep_until(at + interval).await;
            }
            let outcome = self.send(&msg).await;
            // Measured from when the previous message left, not from when it was picked up.
            *self.last_send.lock().unwrap_or_else(|p| p.into_inner()) = Some(tokio::time::Instant::now());
            let (status, error, external) = match outcome {
                Outcome::Sent(id) => ("sent", None, Some(id)),
                Outcome::Failed(why) => ("failed", Some(why), None),
                Outcome::Retry => return,
            };
            if let Err(e) =
                set_status(&self.store, self.user_id, self.session_id, msg.id, status, error, external).await
            {
                tracing::error!(session_id = %self.session_id, error = %e, "cannot record message status");
                return;
            }
            if let Err(e) = super::media::forget_data(&self.store.db, msg.id).await {
                tracing::warn!(session_id = %self.session_id, error = %e, "cannot drop sent media data");
            }
            let _ = touch_activity(&self.store, self.session_id).await;
        }
    }

    async fn send(&self, msg: &message::Model) -> Outcome {
        let Ok(to) = Phone::parse(&msg.peer) else {
            return Outcome::Failed("invalid recipient".into());
        };
        let media = match msg.media.as_deref().map(serde_json::from_str::<MediaIn>) {
            None => None,
            Some(Err(_)) => return Outcome::Failed("stored media is unreadable".into()),
            Some(Ok(media)) => match self.store.media.load(media).await {
                Ok(m) => Some(m),
                Err(why) => return Outcome::Failed(why),
            },
        };
        match self.link.send(Outgoing { to, text: msg.text.clone(), media }).await {
            Ok(id) => Outcome::Sent(id),
            Err(EngineError::NotConnected) => Outcome::Retry,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }
}
