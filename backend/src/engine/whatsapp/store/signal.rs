//! Signal protocol state: identities, sessions, pre-keys, signed pre-keys, sender keys.

use async_trait::async_trait;
use whatsapp_rust::bytes::Bytes;
use whatsapp_rust::wacore::store::error::Result;
use whatsapp_rust::wacore::store::traits::SignalStore;

use super::{id_key, invalid, ns, parse_id_key, KeyStoreBackend};

/// A stored one-time pre-key: one flag byte (uploaded) followed by the record.
fn pack_prekey(record: &[u8], uploaded: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(record.len() + 1);
    out.push(u8::from(uploaded));
    out.extend_from_slice(record);
    out
}

fn unpack_prekey(bytes: &[u8]) -> Result<(bool, &[u8])> {
    match bytes.split_first() {
        Some((flag, record)) => Ok((*flag == 1, record)),
        None => Err(invalid("pre-key")),
    }
}

/// Whether `address` (`user@server` or `user:device@server`) belongs to `user`.
fn address_of_user(address: &str, user: &str) -> bool {
    address.strip_prefix(user).is_some_and(|rest| rest.starts_with('@') || rest.starts_with(':'))
}

#[async_trait]
impl SignalStore for KeyStoreBackend {
    async fn put_identity(&self, address: &str, key: [u8; 32]) -> Result<()> {
        self.put(ns::IDENTITY, address, &key).await
    }

    async fn load_identity(&self, address: &str) -> Result<Option<[u8; 32]>> {
        match self.get(ns::IDENTITY, address).await? {
            None => Ok(None),
            Some(bytes) => <[u8; 32]>::try_from(bytes.as_slice()).map(Some).map_err(|_| invalid("identity key")),
        }
    }

    async fn delete_identity(&self, address: &str) -> Result<()> {
        self.delete(ns::IDENTITY, address).await
    }

    async fn get_session(&self, address: &str) -> Result<Option<Bytes>> {
        Ok(self.get(ns::SESSION, address).await?.map(Bytes::from))
    }

    async fn put_session(&self, address: &str, session: &[u8]) -> Result<()> {
        self.put(ns::SESSION, address, session).await
    }

    async fn delete_session(&self, address: &str) -> Result<()> {
        self.delete(ns::SESSION, address).await
    }

    async fn has_signal_state_for_user(&self, user: &str) -> Result<bool> {
        for namespace in [ns::SESSION, ns::IDENTITY] {
            let rows = self.list(namespace, user).await?;
            if rows.iter().any(|(address, _)| address_of_user(address, user)) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn store_prekey(&self, id: u32, record: &[u8], uploaded: bool) -> Result<()> {
        self.put(ns::PREKEY, &id_key(id), &pack_prekey(record, uploaded)).await
    }

    async fn load_prekey(&self, id: u32) -> Result<Option<Bytes>> {
        match self.get(ns::PREKEY, &id_key(id)).await? {
            None => Ok(None),
            Some(bytes) => {
                let (_, record) = unpack_prekey(&bytes)?;
                Ok(Some(Bytes::copy_from_slice(record)))
            }
        }
    }

    async fn mark_prekeys_uploaded(&self, ids: &[u32]) -> Result<()> {
        let _guard = self.rmw.lock().await;
        for &id in ids {
            let key = id_key(id);
            // Update only: a key consumed meanwhile must stay deleted.
            if let Some(bytes) = self.get(ns::PREKEY, &key).await? {
                let (uploaded, record) = unpack_prekey(&bytes)?;
                if !uploaded {
                    self.put(ns::PREKEY, &key, &pack_prekey(record, true)).await?;
                }
            }
        }
        Ok(())
    }

    async fn remove_prekey(&self, id: u32) -> Result<()> {
        self.delete(ns::PREKEY, &id_key(id)).await
    }

    async fn get_max_prekey_id(&self) -> Result<u32> {
        let rows = self.list(ns::PREKEY, "").await?;
        Ok(rows.iter().filter_map(|(key, _)| parse_id_key(key)).max().unwrap_or(0))
    }

    async fn store_signed_prekey(&self, id: u32, record: &[u8]) -> Result<()> {
        self.put(ns::SIGNED_PREKEY, &id_key(id), record).await
    }

    async fn load_signed_prekey(&self, id: u32) -> Result<Option<Vec<u8>>> {
        self.get(ns::SIGNED_PREKEY, &id_key(id)).await
    }

    async fn load_all_signed_prekeys(&self) -> Result<Vec<(u32, Vec<u8>)>> {
        let rows = self.list(ns::SIGNED_PREKEY, "").await?;
        Ok(rows.into_iter().filter_map(|(key, record)| parse_id_key(&key).map(|id| (id, record))).collect())
    }

    async fn remove_signed_prekey(&self, id: u32) -> Result<()> {
        self.delete(ns::SIGNED_PREKEY, &id_key(id)).await
    }

    async fn put_sender_key(&self, address: &str, record: &[u8]) -> Result<()> {
        self.put(ns::SENDER_KEY, address, record).await
    }

    async fn get_sender_key(&self, address: &str) -> Result<Option<Vec<u8>>> {
        self.get(ns::SENDER_KEY, address).await
    }

    async fn delete_sender_key(&self, address: &str) -> Result<()> {
        self.delete(ns::SENDER_KEY, address).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_match_requires_a_separator_after_the_user() {
        assert!(address_of_user("628123@s.whatsapp.net", "628123"));
        assert!(address_of_user("628123:4@s.whatsapp.net", "628123"));
        assert!(!address_of_user("6281234@s.whatsapp.net", "628123"));
    }

    #[test]
    fn prekey_packing_round_trips() {
        let packed = pack_prekey(b"rec", true);
        assert_eq!(unpack_prekey(&packed).ok(), Some((true, &b"rec"[..])));
        assert!(unpack_prekey(&[]).is_err());
    }
}
