//! Per-message secrets (poll votes, reactions and edits referencing our messages).

use async_trait::async_trait;
use whatsapp_rust::wacore::store::error::Result;
use whatsapp_rust::wacore::store::traits::{
    merge_msg_secret_expiry, merge_msg_secret_message_ts, MessageSecret, MsgSecretEntry, MsgSecretStore,
};

use super::{invalid, join, ns, KeyStoreBackend};

/// A stored secret: the secret, then `expires_at` and `message_ts` (8 bytes each, big endian).
struct SecretRow {
    secret: MessageSecret,
    expires_at: i64,
    message_ts: i64,
}

impl SecretRow {
    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.secret.len() + 16);
        out.extend_from_slice(&self.secret);
        out.extend_from_slice(&self.expires_at.to_be_bytes());
        out.extend_from_slice(&self.message_ts.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Result<Self> {
        let n = std::mem::size_of::<MessageSecret>();
        let malformed = || invalid("message secret");
        if bytes.len() != n + 16 {
            return Err(malformed());
        }
        let secret = MessageSecret::try_from(&bytes[..n]).map_err(|_| malformed())?;
        let expires_at = i64::from_be_bytes(bytes[n..n + 8].try_into().map_err(|_| malformed())?);
        let message_ts = i64::from_be_bytes(bytes[n + 8..].try_into().map_err(|_| malformed())?);
        Ok(Self { secret, expires_at, message_ts })
    }
}

impl KeyStoreBackend {
    async fn secret_row(&self, chat: &str, sender: &str, msg_id: &str) -> Result<Option<SecretRow>> {
        match self.get(ns::MSG_SECRET, &join(&[chat, sender, msg_id])).await? {
            None => Ok(None),
            Some(bytes) => SecretRow::decode(&bytes).map(Some),
        }
    }
}

#[async_trait]
impl MsgSecretStore for KeyStoreBackend {
    async fn put_msg_secrets(&self, entries: Vec<MsgSecretEntry>) -> Result<usize> {
        let _guard = self.rmw.lock().await;
        let stored = entries.len();
        for entry in entries {
            let key = join(&[&entry.chat, &entry.sender, &entry.msg_id]);
            let row = match self.get(ns::MSG_SECRET, &key).await? {
                Some(bytes) => {
                    // An unreadable old row is simply replaced.
                    let old = SecretRow::decode(&bytes).ok();
                    SecretRow {
                        secret: entry.secret,
                        expires_at: old
                            .as_ref()
                            .map_or(entry.expires_at, |o| merge_msg_secret_expiry(o.expires_at, entry.expires_at)),
                        message_ts: old
                            .as_ref()
                            .map_or(entry.message_ts, |o| merge_msg_secret_message_ts(o.message_ts, entry.message_ts)),
                    }
                }
                None => SecretRow { secret: entry.secret, expires_at: entry.expires_at, message_ts: entry.message_ts },
            };
            self.put(ns::MSG_SECRET, &key, &row.encode()).await?;
        }
        Ok(stored)
    }

    async fn get_msg_secret(&self, chat: &str, sender: &str, msg_id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self.secret_row(chat, sender, msg_id).await?.map(|row| row.secret.to_vec()))
    }

    async fn get_msg_secret_with_ts(&self, chat: &str, sender: &str, msg_id: &str) -> Result<Option<(Vec<u8>, i64)>> {
        Ok(self.secret_row(chat, sender, msg_id).await?.map(|row| (row.secret.to_vec(), row.message_ts)))
    }

    async fn delete_expired_msg_secrets(&self, cutoff_timestamp: i64) -> Result<u32> {
        let _guard = self.rmw.lock().await;
        let mut deleted = 0u32;
        for (key, value) in self.list(ns::MSG_SECRET, "").await? {
            let expired = match SecretRow::decode(&value) {
                Ok(row) => row.expires_at != 0 && row.expires_at <= cutoff_timestamp,
                Err(_) => true,
            };
            if expired {
                self.delete(ns::MSG_SECRET, &key).await?;
                deleted = deleted.saturating_add(1);
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_rows_round_trip_and_reject_bad_lengths() {
        let row = SecretRow { secret: [7u8; 32], expires_at: 42, message_ts: -1 };
        let back = SecretRow::decode(&row.encode()).ok();
        assert_eq!(back.map(|r| (r.secret, r.expires_at, r.message_ts)), Some(([7u8; 32], 42, -1)));
        assert!(SecretRow::decode(&[0u8; 10]).is_err());
    }
}
