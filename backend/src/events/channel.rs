//! A user's live fan-out: one broadcast channel shared by all of that user's sockets.
//!
//! The channel exists only while someone listens: the last `Subscription` to go drops
//! it, so users without open sockets cost no ring buffer.

use std::sync::{Arc, Mutex};

use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};

use super::Event;

pub(super) struct UserChannel {
    tx: Mutex<Option<broadcast::Sender<Arc<Event>>>>,
    capacity: usize,
    /// Cluster mode: the last seq broadcast here; `None` until the feed is set up.
    pub(super) delivered: tokio::sync::Mutex<Option<i64>>,
    /// Cluster mode: the task putting this user's events in order (from NATS and from
    /// this node), alive exactly while someone here listens.
    feed: Mutex<Option<Feed>>,
}

/// The ordering task of a channel and its input for this node's own events.
pub(super) struct Feed {
    pub task: tokio::task::AbortHandle,
    pub local: tokio::sync::mpsc::UnboundedSender<Arc<Event>>,
}

impl UserChannel {
    pub(super) fn new(capacity: usize) -> Self {
        Self {
            tx: Mutex::new(None),
            capacity: capacity.max(1),
            delivered: tokio::sync::Mutex::new(None),
            feed: Mutex::new(None),
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

    fn feed(&self) -> std::sync::MutexGuard<'_, Option<Feed>> {
        self.feed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a live task orders this channel's events.
    pub(super) fn has_feed(&self) -> bool {
        self.feed().as_ref().is_some_and(|f| !f.task.is_finished())
    }

    pub(super) fn set_feed(&self, feed: Feed) {
        if let Some(old) = self.feed().replace(feed) {
            old.task.abort();
        }
    }

    /// Hands one of this node's events to the ordering task, if there is one.
    pub(super) fn feed_local(&self, ev: Arc<Event>) {
        if let Some(feed) = self.feed().as_ref() {
            let _ = feed.local.send(ev);
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
            if let Some(feed) = self.channel.feed().take() {
                feed.task.abort();
            }
        }
    }
}
