//! Announces that some credential of a user stopped working (key deleted, user disabled,
//! refresh family revoked), so live WebSockets of that user re-check theirs at once.

use tokio::sync::broadcast;
use uuid::Uuid;

pub struct Revocations {
    tx: broadcast::Sender<Uuid>,
}

impl Default for Revocations {
    fn default() -> Self {
        Self { tx: broadcast::channel(256).0 }
    }
}

impl Revocations {
    pub fn announce(&self, user_id: Uuid) {
        // Nobody listening is fine: no socket is open.
        let _ = self.tx.send(user_id);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Uuid> {
        self.tx.subscribe()
    }
}
