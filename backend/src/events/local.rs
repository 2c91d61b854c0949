//! This process's live subscribers, one channel per user with open sockets.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

use super::channel::{Subscription, UserChannel};
use super::{Event, Fanout};

pub struct LocalChannels {
    buffer: usize,
    users: Mutex<HashMap<Uuid, Arc<UserChannel>>>,
}

impl LocalChannels {
    pub fn new(buffer: usize) -> Self {
        Self { buffer: buffer.max(1), users: Mutex::new(HashMap::new()) }
    }

    fn users(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<UserChannel>>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Live events of one user from now on.
    pub fn subscribe(&self, user_id: Uuid) -> Subscription {
        self.channel(user_id).subscribe()
    }

    pub(super) fn channel(&self, user_id: Uuid) -> Arc<UserChannel> {
        self.users().entry(user_id).or_insert_with(|| Arc::new(UserChannel::new(self.buffer))).clone()
    }

    pub(super) fn get(&self, user_id: Uuid) -> Option<Arc<UserChannel>> {
        self.users().get(&user_id).cloned()
    }

    /// Users with someone listening, and their channels.
    pub(super) fn live(&self) -> Vec<(Uuid, Arc<UserChannel>)> {
        self.users().iter().filter(|(_, c)| c.receivers() > 0).map(|(u, c)| (*u, c.clone())).collect()
    }

    /// Number of users with a live subscription.
    pub fn channels(&self) -> usize {
        self.users().values().filter(|c| c.receivers() > 0).count()
    }

    /// Live subscriptions of one user.
    pub fn receiver_count(&self, user_id: Uuid) -> usize {
        self.users().get(&user_id).map_or(0, |c| c.receivers())
    }
}

impl Fanout for LocalChannels {
    fn deliver(&self, ev: &Arc<Event>) {
        let channel = self.users().get(&ev.user_id).cloned();
        if let Some(channel) = channel {
            channel.send(ev.clone());
        }
    }
}
