//! Keeping leases and placing sessions: each node renews all its leases in one statement
//! every third of the TTL and drops the links of any it lost; it adopts sessions that
//! should run but no live node holds (after a node died or drained), up to its fair share
//! and its cap; a node far above its share hands one connected session at a time to the
//! others (hysteresis keeps sessions from bouncing back and forth).

use std::collections::HashSet;
use std::time::Duration;

use sea_orm::{DbErr, EntityTrait};
use tokio::time::Instant;
use uuid::Uuid;

use super::leases::Acquired;
use super::manager::SessionManager;
use super::task::Command;
use crate::db::entities::session;
use crate::domain::{reason, Status};

/// Unpaired sessions settled per round (their QR died with their node: marked stopped).
const UNPAIRED_BATCH: u64 = 20;
/// Sessions adopted per round at most.
const ADOPT_BATCH: i64 = 100;

impl SessionManager {
    /// Renews this node's leases until the process ends. Tasks whose lease was not renewed
    /// drop their links at once; when renewing fails for two thirds of the TTL every link
    /// is dropped, before any lease can have expired and been taken by another node.
    pub async fn keep_leases(self) {
        let ttl = self.ctx.leases.ttl();
        let every = (ttl / 3).max(Duration::from_millis(100));
        let mut renewed_at = Instant::now();
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let sent = Instant::now();
            match tokio::time::timeout(every, self.ctx.leases.renew_all()).await {
                Ok(Ok(held)) => {
                    renewed_at = sent;
                    self.fence_lost(sent, Some(&held));
                }
                Ok(Err(e)) => tracing::warn!(error = %e, "could not renew session leases"),
                Err(_) => tracing::warn!("renewing session leases timed out"),
            }
            if renewed_at.elapsed() >= ttl * 2 / 3 {
                tracing::error!("session leases not renewed for two thirds of their TTL; dropping every link");
                self.fence_lost(Instant::now(), None);
            }
        }
    }

    /// Tells tasks holding no renewed lease (all, when `held` is `None`) to drop their link.
    fn fence_lost(&self, before: Instant, held: Option<&HashSet<Uuid>>) {
        let lost: Vec<_> = self
            .lock()
            .running
            .iter()
            .filter(|(id, h)| !h.tx.is_closed() && h.since < before && held.is_none_or(|held| !held.contains(id)))
            .map(|(id, h)| (*id, h.tx.clone()))
            .collect();
        for (id, tx) in lost {
            tracing::warn!(session_id = %id, "lost the session's lease; dropping its link");
            tokio::spawn(async move { tx.send(Command::Fenced).await });
        }
    }

    /// Runs placement rounds until the process ends.
    pub async fn place(self) {
        let ttl = self.ctx.leases.ttl();
        // In a cluster an orphan (drained or dead node) is adopted quickly; on one node
        // orphans only follow a lost lease, so the round can be rare.
        let every = if self.ctx.cluster { (ttl / 3).min(Duration::from_millis(500)) } else { ttl / 3 };
        let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(e) = self.place_round().await {
                tracing::warn!(error = %e, "session placement round failed");
            }
        }
    }

    async fn place_round(&self) -> Result<(), DbErr> {
        if self.lock().closed {
            return Ok(());
        }
        let load = self.ctx.leases.load().await?;
        let nodes = if self.ctx.cluster { load.nodes } else { 1 };
        let share = (load.wanted + nodes - 1) / nodes;
        let cap = i64::try_from(self.ctx.settings.cluster.node_max_sessions).unwrap_or(i64::MAX);
        let room = (share.max(1) - load.mine).min(cap - load.held).min(ADOPT_BATCH);
        let mut adopted = Vec::new();
        if room > 0 {
            for id in self.ctx.leases.orphans(true, room.unsigned_abs()).await? {
                // One session's failure must not strand the others adopted in this round.
                match self.adopt(id).await {
                    Ok(Some(row)) => adopted.push(row),
                    Ok(None) => {}
                    Err(e) => tracing::warn!(session_id = %id, error = %e, "could not adopt a session"),
                }
            }
        }
        for id in self.ctx.leases.orphans(false, UNPAIRED_BATCH).await? {
            if let Err(e) = self.settle_unpaired(id).await {
                tracing::warn!(session_id = %id, error = %e, "could not settle an unpaired session");
            }
        }
        if !adopted.is_empty() {
            tracing::info!(count = adopted.len(), "adopting sessions no live node runs");
            tokio::spawn(self.clone().reconnect_staggered(adopted, 0));
        }
        let slack = (share / 10).max(2);
        if self.ctx.cluster && load.mine > share + slack && load.least + 1 < share {
            for id in self.ctx.leases.movable(1).await? {
                self.hand_over(id);
            }
        }
        Ok(())
    }

    /// Takes the lease of a paired session nobody runs and marks it `starting`
    /// (`node_lost` when its node's lease expired, `server_restart` after a drain).
    async fn adopt(&self, id: Uuid) -> Result<Option<(session::Model, i64)>, DbErr> {
        if self.lock().running.get(&id).is_some_and(|h| !h.tx.is_closed()) {
            return Ok(None); // its old task here is still dropping the link
        }
        let Acquired::Mine { epoch, lost_by } = self.ctx.leases.acquire(id).await? else { return Ok(None) };
        let row = session::Entity::find_by_id(id).one(&self.ctx.db).await?;
        let runnable = row.as_ref().is_some_and(|r| r.auth_paired && status_of(r).is_running());
        let Some(row) = row.filter(|_| runnable) else {
            self.ctx.leases.release(id, epoch).await?;
            return Ok(None);
        };
        let why = if lost_by.is_some() { reason::NODE_LOST } else { reason::SERVER_RESTART };
        let fence = self.ctx.leases.fence(id, epoch);
        // One retry: a concurrent publish for the same user from another node can make
        // the first attempt fail (the per-user sequence moved on).
        let mut marked = self.mark(&row, Status::Starting, why, &fence).await;
        if marked.is_err() {
            marked = self.mark(&row, Status::Starting, why, &fence).await;
        }
        match marked {
            Ok(marked) => Ok(Some((marked, epoch))),
            Err(e) => {
                self.ctx.leases.abandon(id, epoch, lost_by.as_deref()).await?;
                Err(e)
            }
        }
    }

    /// An unpaired session whose node is gone offered a QR nobody can scan any more: stopped.
    async fn settle_unpaired(&self, id: Uuid) -> Result<(), DbErr> {
        if self.lock().running.contains_key(&id) {
            return Ok(());
        }
        let Acquired::Mine { epoch, lost_by } = self.ctx.leases.acquire(id).await? else { return Ok(()) };
        let row = session::Entity::find_by_id(id).one(&self.ctx.db).await?;
        if let Some(row) = row.filter(|r| !r.auth_paired && status_of(r).is_running()) {
            let why = if lost_by.is_some() { reason::NODE_LOST } else { reason::SERVER_RESTART };
            self.mark(&row, Status::Stopped, why, &self.ctx.leases.fence(id, epoch)).await?;
        }
        self.ctx.leases.release(id, epoch).await
    }

    /// Closes one session's link here and gives its lease up, for a less loaded node to adopt.
    fn hand_over(&self, id: Uuid) {
        let Some(tx) = self.lock().running.get(&id).map(|h| h.tx.clone()) else { return };
        tracing::info!(session_id = %id, "handing a session to a less loaded node");
        tokio::spawn(async move {
            let (reply, _done) = tokio::sync::oneshot::channel();
            let _ = tx.send(Command::Shutdown(reply)).await;
        });
    }
}

fn status_of(row: &session::Model) -> Status {
    Status::parse(&row.status).unwrap_or(Status::Stopped)
}
