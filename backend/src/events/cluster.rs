//! Cluster mode's `Fanout`: each committed event goes to NATS for the other nodes and to
//! this node's ordering task of its user; a user's first socket here subscribes to the
//! user's subject, the last one unsubscribes; a sweep catches up what NATS lost.

use std::collections::HashMap;
use std::sync::Arc;

use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QuerySelect};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::channel::{Feed, Subscription};
use super::local::LocalChannels;
use super::remote::{self, Remote};
use super::{order, seq, Event, Fanout};
use crate::db::entities::user_seq;

/// Users compared with the log per query of a sweep.
const SWEEP_CHUNK: usize = 500;

pub struct ClusterFanout {
    local: Arc<LocalChannels>,
    remote: Remote,
    db: DatabaseConnection,
}

impl ClusterFanout {
    pub fn new(local: Arc<LocalChannels>, client: async_nats::Client, prefix: String, db: DatabaseConnection) -> Self {
        Self { local, remote: Remote::new(client, prefix), db }
    }

    /// Live events of one user from now on, from every node.
    pub async fn subscribe(&self, user_id: Uuid) -> anyhow::Result<Subscription> {
        let channel = self.local.channel(user_id);
        let sub = channel.subscribe();
        let mut delivered = channel.delivered.lock().await;
        if channel.has_feed() {
            return Ok(sub);
        }
        let mut frames = self.remote.subscribe(user_id).await?;
        // Read after the subject is registered: every later event arrives or leaves a hole.
        *delivered = Some(seq::last(&self.db, user_id).await?);
        drop(delivered);
        let (local, mut own) = mpsc::unbounded_channel::<Arc<Event>>();
        let (db, fed) = (self.db.clone(), channel.clone());
        let task = tokio::spawn(async move {
            loop {
                let ev = tokio::select! {
                    frame = remote::next(&mut frames, user_id) => match frame {
                        None => break,
                        Some(None) => continue,
                        Some(Some(ev)) => Arc::new(ev),
                    },
                    Some(ev) = own.recv() => ev,
                };
                order::deliver(&db, &fed, ev).await;
            }
        });
        channel.set_feed(Feed { task: task.abort_handle(), local });
        Ok(sub)
    }

    /// Brings every channel with listeners up to its user's log, for frames NATS lost
    /// with no later frame to reveal the hole (a NATS restart, a node dying after a commit).
    pub async fn sweep(&self) -> Result<(), DbErr> {
        let live = self.local.live();
        for chunk in live.chunks(SWEEP_CHUNK) {
            let newest: HashMap<Uuid, i64> = user_seq::Entity::find()
                .select_only()
                .column(user_seq::Column::UserId)
                .column(user_seq::Column::LastSeq)
                .filter(user_seq::Column::UserId.is_in(chunk.iter().map(|(u, _)| *u)))
                .into_tuple::<(Uuid, i64)>()
                .all(&self.db)
                .await?
                .into_iter()
                .collect();
            for (user_id, channel) in chunk {
                let done = *channel.delivered.lock().await;
                if matches!((newest.get(user_id), done), (Some(n), Some(d)) if *n > d) {
                    order::catch_up(&self.db, channel, *user_id).await?;
                }
            }
        }
        Ok(())
    }
}

impl Fanout for ClusterFanout {
    fn deliver(&self, ev: &Arc<Event>) {
        self.remote.publish(ev);
        if let Some(channel) = self.local.get(ev.user_id) {
            channel.feed_local(ev.clone());
        }
    }
}
