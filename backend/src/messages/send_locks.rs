//! One lock per sending session: the daily-limit count and the insert of a send run
//! under it, so sends of one session cannot overshoot the limit while sends of other
//! sessions (and users) go on in parallel. Locks exist only while someone holds or
//! waits for them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;
use uuid::Uuid;

#[derive(Clone, Default)]
pub struct SendLocks {
    locks: Arc<Mutex<HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>>>,
}

/// Held while one send of a session is counted and stored.
pub struct SendGuard {
    guard: Option<OwnedMutexGuard<()>>,
    locks: SendLocks,
    session: Uuid,
}

impl SendLocks {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Arc<tokio::sync::Mutex<()>>>> {
        self.locks.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for the session's previous send to be stored.
    pub async fn lock(&self, session: Uuid) -> SendGuard {
        let lock = self.map().entry(session).or_default().clone();
        let guard = lock.lock_owned().await;
        SendGuard { guard: Some(guard), locks: self.clone(), session }
    }

    /// Sessions with a lock held or awaited.
    pub fn len(&self) -> usize {
        self.map().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for SendGuard {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut map = self.locks.map();
        // Only the map holds it: nobody waits, so the entry can go.
        if map.get(&self.session).is_some_and(|lock| Arc::strong_count(lock) == 1) {
            map.remove(&self.session);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn one_session_waits_for_itself_only() {
        let locks = SendLocks::default();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let held = locks.lock(a).await;
        // Another session's send is not held up (the deadline only guards against a hang).
        let other = tokio::time::timeout(Duration::from_secs(5), locks.lock(b)).await;
        assert!(other.is_ok(), "a send of another session must not wait");
        drop(other);
        // The same session's next send waits until the first is done.
        let same = locks.lock(a);
        tokio::pin!(same);
        assert!(futures_util::poll!(same.as_mut()).is_pending());
        drop(held);
        let second = tokio::time::timeout(Duration::from_secs(5), same).await.expect("lock after release");
        drop(second);
        assert!(locks.is_empty(), "released locks are forgotten");
    }
}
