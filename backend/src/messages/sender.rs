//! Sends a session's queued messages, oldest first, one at a time, keeping the
//! configured minimum interval between sends. Messages stay queued in the database
//! until the engine accepted them, so a dropped link or a restart loses none.
//!
//! A message on the wire stays `queued` (with its engine id) until the server
//! acknowledges it (`sent`); without an acknowledgement within the ack deadline it is
//! `failed` with `no ack`. Later receipts move it to `delivered` and `read`.

use std::sync::Arc;
use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use uuid::Uuid;

use super::store::{apply_receipt, fail_unacknowledged, set_external_id, set_status, touch_activity, MessageStore};
use super::types::MediaIn;
use crate::db::entities::message;
use crate::db::fence::Fence;
use crate::domain::Phone;
use crate::engine::{EngineError, Link, Outgoing, Receipt};

/// The error of a message the server never acknowledged.
pub const NO_ACK: &str = "no ack";

pub struct MessageSender {
    store: MessageStore,
    interval: Duration,
    ack_timeout: Duration,
    session_id: Uuid,
    user_id: Uuid,
    worker: Option<(JoinHandle<()>, Arc<Notify>, mpsc::UnboundedSender<Receipt>)>,
    /// Outlives workers, so the interval also holds across a reconnect.
    last_send: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
    fence: Option<Fence>,
}

impl MessageSender {
    pub fn new(
        store: MessageStore,
        interval: Duration,
        ack_timeout: Duration,
        session_id: Uuid,
        user_id: Uuid,
    ) -> Self {
        Self { store, interval, ack_timeout, session_id, user_id, worker: None, last_send: Arc::default(), fence: None }
    }

    /// Nothing goes on the wire unless this lease still holds (a node that lost the
    /// session must not send its queue too).
    pub fn fenced(mut self, fence: Fence) -> Self {
        self.fence = Some(fence);
        self
    }

    /// Makes sure a worker is sending over `link`.
    pub fn nudge(&mut self, link: Arc<dyn Link>) {
        if let Some((handle, notify, _)) = &self.worker {
            if !handle.is_finished() {
                notify.notify_one();
                return;
            }
        }
        let notify = Arc::new(Notify::new());
        let (receipts_tx, receipts) = mpsc::unbounded_channel();
        let worker = Worker {
            store: self.store.clone(),
            interval: self.interval,
            ack_timeout: self.ack_timeout,
            session_id: self.session_id,
            user_id: self.user_id,
            link,
            notify: notify.clone(),
            receipts,
            last_send: self.last_send.clone(),
            fence: self.fence.clone(),
        };
        self.worker = Some((tokio::spawn(worker.run()), notify, receipts_tx));
    }

    /// Records a receipt: through the worker while one runs (it may be waiting for
    /// exactly this acknowledgement), else directly.
    pub async fn receipt(&mut self, receipt: Receipt) {
        if let Some((handle, _, receipts)) = &self.worker {
            if !handle.is_finished() {
                if let Err(mpsc::error::SendError(receipt)) = receipts.send(receipt) {
                    self.record(receipt).await;
                }
                return;
            }
        }
        self.record(receipt).await;
    }

    async fn record(&self, receipt: Receipt) {
        if let Err(e) = apply_receipt(&self.store, self.user_id, self.session_id, &receipt).await {
            tracing::error!(session_id = %self.session_id, error = %e, "cannot record a message receipt");
        }
    }

    pub fn stop(&mut self) {
        if let Some((handle, _, _)) = self.worker.take() {
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
    ack_timeout: Duration,
    session_id: Uuid,
    user_id: Uuid,
    link: Arc<dyn Link>,
    notify: Arc<Notify>,
    receipts: mpsc::UnboundedReceiver<Receipt>,
    last_send: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
    fence: Option<Fence>,
}

enum Outcome {
    Sent(String),
    Failed(String),
    /// The link is gone: leave the message queued for the next connection.
    Retry,
}

impl Worker {
    async fn run(mut self) {
        let interval = self.interval;
        // Messages a previous link put on the wire and never saw acknowledged.
        if let Err(e) = fail_unacknowledged(&self.store, self.user_id, self.session_id, NO_ACK).await {
            tracing::error!(session_id = %self.session_id, error = %e, "cannot fail unacknowledged messages");
        }
        loop {
            let next = message::Entity::find()
                .filter(message::Column::SessionId.eq(self.session_id))
                .filter(message::Column::Direction.eq("out"))
                .filter(message::Column::Status.eq("queued"))
                .filter(message::Column::ExternalId.is_null())
                .order_by_asc(message::Column::CreatedAt)
                .order_by_asc(message::Column::Id)
                .one(&self.store.db)
                .await;
            let msg = match next {
                Ok(Some(msg)) => msg,
                Ok(None) => {
                    tokio::select! {
                        _ = self.notify.notified() => {}
                        Some(receipt) = self.receipts.recv() => self.record(&receipt).await,
                    }
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
            if let Some(fence) = &self.fence {
                if let Err(e) = fence.check(&self.store.db).await {
                    tracing::warn!(session_id = %self.session_id, error = %e, "not sending: the session's lease is gone");
                    return;
                }
            }
            let outcome = self.send(&msg).await;
            // Measured from when the previous message left, not from when it was picked up.
            *self.last_send.lock().unwrap_or_else(|p| p.into_inner()) = Some(tokio::time::Instant::now());
            if !matches!(outcome, Outcome::Retry) {
                // Before the status is recorded: whoever sees `sent` or `failed` finds the file data gone.
                if let Err(e) = super::media::forget_data(&self.store.db, msg.id).await {
                    tracing::warn!(session_id = %self.session_id, error = %e, "cannot drop sent media data");
                }
            }
            let recorded = match outcome {
                Outcome::Sent(external) => self.await_ack(msg.id, external).await,
                Outcome::Failed(why) => {
                    set_status(&self.store, self.user_id, self.session_id, msg.id, "failed", Some(why), None).await
                }
                Outcome::Retry => return,
            };
            if let Err(e) = recorded {
                tracing::error!(session_id = %self.session_id, error = %e, "cannot record message status");
                return;
            }
            let _ = touch_activity(&self.store, self.session_id).await;
        }
    }

    /// The message is on the wire: remember its engine id, then wait for the server's
    /// acknowledgement (recording other receipts meanwhile) until the ack deadline.
    async fn await_ack(&mut self, id: Uuid, external: String) -> Result<(), sea_orm::DbErr> {
        set_external_id(&self.store, id, &external).await?;
        let deadline = tokio::time::Instant::now() + self.ack_timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.receipts.recv()).await {
                Ok(Some(receipt)) => {
                    let ours = receipt.message_id == external;
                    apply_receipt(&self.store, self.user_id, self.session_id, &receipt).await?;
                    if ours {
                        return Ok(());
                    }
                }
                // The session closed this worker's link; the next worker settles the message.
                Ok(None) => return Ok(()),
                Err(_) => {
                    tracing::warn!(session_id = %self.session_id, message_id = %id, "no server ack in time");
                    let error = Some(NO_ACK.to_owned());
                    return set_status(&self.store, self.user_id, self.session_id, id, "failed", error, None).await;
                }
            }
        }
    }

    async fn record(&self, receipt: &Receipt) {
        if let Err(e) = apply_receipt(&self.store, self.user_id, self.session_id, receipt).await {
            tracing::error!(session_id = %self.session_id, error = %e, "cannot record a message receipt");
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
