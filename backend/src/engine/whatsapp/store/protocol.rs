//! WhatsApp Web protocol state: sender-key distribution, LID/PN mapping, base keys,
//! device lists, group metadata, trusted-contact tokens, sent-message retry buffer
//! and the pending-inbound durability buffer.

use async_trait::async_trait;
use whatsapp_rust::wacore::store::error::Result;
use whatsapp_rust::wacore::store::traits::{DeviceListRecord, LidPnMappingEntry, ProtocolStore, TcTokenEntry};

use super::{from_json, invalid, join, join_prefix, now_secs, ns, split, stamp, unstamp, KeyStoreBackend};

/// Deletes every row of `namespace` whose stamped timestamp satisfies `expired`.
async fn sweep_stamped(store: &KeyStoreBackend, namespace: &str, expired: impl Fn(i64) -> bool) -> Result<u32> {
    let mut deleted = 0u32;
    for (key, value) in store.list(namespace, "").await? {
        let is_expired = match unstamp(&value) {
            Some((ts, _)) => expired(ts),
            // Unreadable rows cannot be used for anything; drop them with the sweep.
            None => true,
        };
        if is_expired {
            store.delete(namespace, &key).await?;
            deleted = deleted.saturating_add(1);
        }
    }
    Ok(deleted)
}

impl KeyStoreBackend {
    async fn lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        self.get_json(ns::LID_MAPPING, lid).await
    }

    async fn tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        self.get_json(ns::TC_TOKEN, jid).await
    }
}

#[async_trait]
impl ProtocolStore for KeyStoreBackend {
    async fn get_sender_key_devices(&self, group_jid: &str) -> Result<Vec<(String, bool)>> {
        let rows = self.list(ns::SENDER_KEY_DEVICE, &join_prefix(&[group_jid])).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(key, value)| {
                let mut parts = split(&key);
                let device = parts.pop()?;
                (parts.len() == 1).then(|| (device, value.first() == Some(&1)))
            })
            .collect())
    }

    async fn set_sender_key_status(&self, group_jid: &str, entries: &[(&str, bool)]) -> Result<()> {
        for (device_jid, has_key) in entries {
            self.put(ns::SENDER_KEY_DEVICE, &join(&[group_jid, device_jid]), &[u8::from(*has_key)]).await?;
        }
        Ok(())
    }

    async fn clear_sender_key_devices(&self, group_jid: &str) -> Result<()> {
        let rows = self.list(ns::SENDER_KEY_DEVICE, &join_prefix(&[group_jid])).await?;
        for (key, _) in rows {
            self.delete(ns::SENDER_KEY_DEVICE, &key).await?;
        }
        Ok(())
    }

    async fn delete_sender_key_device_rows(&self, device_jids: &[&str]) -> Result<()> {
        if device_jids.is_empty() {
            return Ok(());
        }
        for (key, _) in self.list(ns::SENDER_KEY_DEVICE, "").await? {
            let parts = split(&key);
            if parts.len() == 2 && device_jids.contains(&parts[1].as_str()) {
                self.delete(ns::SENDER_KEY_DEVICE, &key).await?;
            }
        }
        Ok(())
    }

    async fn clear_all_sender_key_devices(&self) -> Result<()> {
        self.delete_namespace(ns::SENDER_KEY_DEVICE).await
    }

    async fn get_lid_mapping(&self, lid: &str) -> Result<Option<LidPnMappingEntry>> {
        self.lid_mapping(lid).await
    }

    async fn get_pn_mapping(&self, phone: &str) -> Result<Option<LidPnMappingEntry>> {
        let Some(lid) = self.get(ns::PN_MAPPING, phone).await? else {
            return Ok(None);
        };
        let lid = String::from_utf8(lid).map_err(|_| invalid("pn mapping"))?;
        Ok(self.lid_mapping(&lid).await?.filter(|entry| entry.phone_number == phone))
    }

    async fn put_lid_mapping(&self, entry: &LidPnMappingEntry) -> Result<()> {
        let _guard = self.rmw.lock().await;
        if let Some(old) = self.lid_mapping(&entry.lid).await? {
            if old.phone_number != entry.phone_number {
                // Drop the stale reverse entry, but only if it still points at this LID.
                if self.get(ns::PN_MAPPING, &old.phone_number).await?.as_deref() == Some(entry.lid.as_bytes()) {
                    self.delete(ns::PN_MAPPING, &old.phone_number).await?;
                }
            }
        }
        self.put_json(ns::LID_MAPPING, &entry.lid, entry).await?;
        self.put(ns::PN_MAPPING, &entry.phone_number, entry.lid.as_bytes()).await
    }

    async fn get_all_lid_mappings(&self) -> Result<Vec<LidPnMappingEntry>> {
        self.list(ns::LID_MAPPING, "").await?.iter().map(|(_, value)| from_json(value)).collect()
    }

    async fn save_base_key(&self, address: &str, message_id: &str, base_key: &[u8]) -> Result<()> {
        self.put(ns::BASE_KEY, &join(&[address, message_id]), base_key).await
    }

    async fn has_same_base_key(&self, address: &str, message_id: &str, current_base_key: &[u8]) -> Result<bool> {
        let stored = self.get(ns::BASE_KEY, &join(&[address, message_id])).await?;
        Ok(stored.as_deref() == Some(current_base_key))
    }

    async fn delete_base_key(&self, address: &str, message_id: &str) -> Result<()> {
        self.delete(ns::BASE_KEY, &join(&[address, message_id])).await
    }

    async fn update_device_list(&self, record: DeviceListRecord) -> Result<()> {
        self.put_json(ns::DEVICE_LIST, &record.user, &record).await
    }

    async fn get_devices(&self, user: &str) -> Result<Option<DeviceListRecord>> {
        self.get_json(ns::DEVICE_LIST, user).await
    }

    async fn delete_devices(&self, user: &str) -> Result<()> {
        self.delete(ns::DEVICE_LIST, user).await
    }

    async fn get_group_metadata(&self, group_jid: &str) -> Result<Option<Vec<u8>>> {
        self.get(ns::GROUP_METADATA, group_jid).await
    }

    async fn put_group_metadata(&self, group_jid: &str, blob: &[u8]) -> Result<()> {
        self.put(ns::GROUP_METADATA, group_jid, blob).await
    }

    async fn delete_group_metadata(&self, group_jid: &str) -> Result<()> {
        self.delete(ns::GROUP_METADATA, group_jid).await
    }

    async fn get_tc_token(&self, jid: &str) -> Result<Option<TcTokenEntry>> {
        self.tc_token(jid).await
    }

    async fn put_tc_token(&self, jid: &str, entry: &TcTokenEntry) -> Result<()> {
        let _guard = self.rmw.lock().await;
        self.put_json(ns::TC_TOKEN, jid, entry).await
    }

    async fn delete_tc_token(&self, jid: &str) -> Result<()> {
        self.delete(ns::TC_TOKEN, jid).await
    }

    async fn get_all_tc_token_jids(&self) -> Result<Vec<String>> {
        Ok(self.list(ns::TC_TOKEN, "").await?.into_iter().map(|(key, _)| key).collect())
    }

    async fn delete_expired_tc_tokens(&self, token_cutoff: i64, sender_cutoff: i64) -> Result<u32> {
        let _guard = self.rmw.lock().await;
        let mut deleted = 0u32;
        for (jid, value) in self.list(ns::TC_TOKEN, "").await? {
            let live = match from_json::<TcTokenEntry>(&value) {
                Ok(entry) => {
                    let token_live = !entry.token.is_empty() && entry.token_timestamp >= token_cutoff;
                    let sender_live = entry.sender_timestamp.is_some_and(|ts| ts >= sender_cutoff);
                    token_live || sender_live
                }
                Err(_) => false,
            };
            if !live {
                self.delete(ns::TC_TOKEN, &jid).await?;
                deleted = deleted.saturating_add(1);
            }
        }
        Ok(deleted)
    }

    async fn touch_tc_token_sender_timestamp(&self, jid: &str, sender_timestamp: i64) -> Result<()> {
        let _guard = self.rmw.lock().await;
        let entry = match self.tc_token(jid).await? {
            Some(existing) => TcTokenEntry {
                sender_timestamp: Some(
                    existing.sender_timestamp.map_or(sender_timestamp, |ts| ts.max(sender_timestamp)),
                ),
                ..existing
            },
            None => TcTokenEntry {
                token: Vec::new(),
                token_timestamp: sender_timestamp,
                sender_timestamp: Some(sender_timestamp),
            },
        };
        self.put_json(ns::TC_TOKEN, jid, &entry).await
    }

    async fn store_received_tc_token(&self, jid: &str, token: &[u8], token_timestamp: i64) -> Result<()> {
        let _guard = self.rmw.lock().await;
        let existing = self.tc_token(jid).await?;
        if let Some(existing) = &existing {
            // Newer wins; a byte-less placeholder never blocks the first real token.
            if !existing.token.is_empty() && token_timestamp < existing.token_timestamp {
                return Ok(());
            }
        }
        let entry = TcTokenEntry {
            token: token.to_vec(),
            token_timestamp,
            sender_timestamp: existing.and_then(|e| e.sender_timestamp),
        };
        self.put_json(ns::TC_TOKEN, jid, &entry).await
    }

    async fn store_sent_message(&self, chat_jid: &str, message_id: &str, payload: &[u8]) -> Result<()> {
        self.put(ns::SENT_MESSAGE, &join(&[chat_jid, message_id]), &stamp(now_secs(), payload)).await
    }

    async fn take_sent_message(&self, chat_jid: &str, message_id: &str) -> Result<Option<Vec<u8>>> {
        let _guard = self.rmw.lock().await;
        let key = join(&[chat_jid, message_id]);
        let Some(value) = self.get(ns::SENT_MESSAGE, &key).await? else {
            return Ok(None);
        };
        self.delete(ns::SENT_MESSAGE, &key).await?;
        let (_, payload) = unstamp(&value).ok_or_else(|| invalid("sent message"))?;
        Ok(Some(payload.to_vec()))
    }

    async fn delete_expired_sent_messages(&self, cutoff_timestamp: i64) -> Result<u32> {
        sweep_stamped(self, ns::SENT_MESSAGE, |ts| ts < cutoff_timestamp).await
    }

    async fn store_pending_inbound(&self, chat: &str, sender: &str, id: &str, message: &[u8]) -> Result<()> {
        self.put(ns::PENDING_INBOUND, &join(&[chat, sender, id]), &stamp(now_secs(), message)).await
    }

    async fn get_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<Option<Vec<u8>>> {
        match self.get(ns::PENDING_INBOUND, &join(&[chat, sender, id])).await? {
            None => Ok(None),
            Some(value) => {
                let (_, message) = unstamp(&value).ok_or_else(|| invalid("pending inbound message"))?;
                Ok(Some(message.to_vec()))
            }
        }
    }

    async fn delete_pending_inbound(&self, chat: &str, sender: &str, id: &str) -> Result<()> {
        self.delete(ns::PENDING_INBOUND, &join(&[chat, sender, id])).await
    }

    async fn delete_expired_pending_inbound(&self, cutoff_timestamp: i64) -> Result<u32> {
        sweep_stamped(self, ns::PENDING_INBOUND, |ts| ts < cutoff_timestamp).await
    }
}
