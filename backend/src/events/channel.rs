//! A user's live fan-out: one broadcast channel shared by all of that user's sockets.
//!
//! The channel exists only while someone listens: the last `Subscription` to go drops
//! it, so users without open sockets cost no ring buffer.

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use super::Event;

pub(super) struct UserChannel {
    /// Last sequence number handed out; `None` until loaded from the database. In cluster
    /// mode: the last one broadcast here (other nodes hand numbers out too).
    pub(super) seq: tokio::sync::Mutex<Option<i64>>,
    tx: Mutex<Option<broadcast::Sender<Arc<Event>>>>,
    capacity: usize,
    /// Cluster mode: the task feeding this channel from the user's NATS subject, alive
    /// exactly while someone here listens (stopped with the last subscription).
    remote: Mutex<Option<tokio::task::AbortHandle>>,
}

impl UserChannel {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            seq: tokio::sync::Mutex::new(None),
            tx: Mutex::new(None),
            capacity: capacity.max(1),
            remote: Mutex::new(None),
        }
    }

    fn sender(&self) -> std::sync::MutexGuard<'_, Option<broadcast::Sender<Arc<Event>>>> {
        self.tx.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Hands `ev` to every current subscriber; nobody listening is fine.
    pub(super) fn send(&self, ev: Arc<Event>) {
        if let Some(tx) = self.sender().as_ref() {
            let _ = tx.send(ev);
        }
    }

    pub(super) fn subscribe(self: &Arc<Self>) -> Subscription {
        let mut tx = self.sender();
        let rx = tx.get_or_insert_with(|| broadcast::channel(self.capacity).0).subscribe();
        Subscription { rx, channel: self.clone() }
    }

    fn remote_slot(&self) -> std::sync::MutexGuard<'_, Option<tokio::task::AbortHandle>> {
        self.remote.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a task feeds this channel from NATS.
    pub(super) fn has_remote(&self) -> bool {
        self.remote_slot().as_ref().is_some_and(|h| !h.is_finished())
    }

    pub(super) fn set_remote(&self, task: tokio::task::AbortHandle) {
        if let Some(old) = self.remote_slot().replace(task) {
            old.abort();
        }
    }

    pub(super) fn receivers(&self) -> usize {
        self.sender().as_ref().map_or(0, |tx| tx.receiver_count())
    }
}

/// Live events of one user from the moment of subscribing; at most `ws_buffer` unread.
pub struct Subscription {
    rx: broadcast::Receiver<Arc<Event>>,
    channel: Arc<UserChannel>,
}

impl Subscription {
    /// The next event; `Lagged` when more than the buffer went unread.
    pub async fn recv(&mut self) -> Result<Arc<Event>, RecvError> {
        self.rx.recv().await
    }

    /// The next event if one is already waiting.
    pub fn try_recv(&mut self) -> Result<Arc<Event>, TryRecvError> {
        self.rx.try_recv()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        let mut tx = self.channel.sender();
        // Our own receiver is still counted here; subscribing takes the same lock.
        if tx.as_ref().is_some_and(|tx| tx.receiver_count() <= 1) {
            *tx = None;
            // Unsubscribes from the user's subject: nobody here listens any more.
            if let Some(task) = self.channel.remote_slot().take() {
                task.abort();
            }
        }
    }
}
