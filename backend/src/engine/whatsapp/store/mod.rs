//! whatsapp-rust's storage `Backend` over wahub's per-session encrypted [`KeyStore`].
//!
//! Every trait group lives in its own namespace of the session's slice of
//! `engine_keys` (see [`ns`]); values are encrypted at rest by `KeyStore`.
//!
//! Encoding rules:
//! - single-part keys (addresses, JIDs, names) are stored as given;
//! - composite keys join escaped parts with `|` ([`join`]);
//! - numeric ids are zero padded to ten digits so key order is numeric order;
//! - binary ids (app-state key ids, index MACs) are lower-case hex;
//! - structured values are JSON (the wacore types implement serde); small fixed
//!   records (pre-key flag, timestamps, message secrets) are packed bytes.
//!
//! Operations a plain key/value store cannot do in one statement (prefix deletes,
//! expiry sweeps, "any key for this user") are done with `list` + filter, and
//! read-modify-write methods are serialized by a per-backend lock.

mod appsync;
mod device;
mod protocol;
mod secrets;
mod signal;

use std::borrow::Cow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Mutex;
use whatsapp_rust::wacore::store::error::{Result, StoreError};

use crate::engine::keystore::KeyStoreError;
use crate::engine::KeyStore;

/// Namespaces of the `engine_keys` table used by the whatsapp engine.
pub mod ns {
    pub const DEVICE: &str = "device";
    pub const IDENTITY: &str = "identity";
    pub const SESSION: &str = "session";
    pub const PREKEY: &str = "prekey";
    pub const SIGNED_PREKEY: &str = "signed_prekey";
    pub const SENDER_KEY: &str = "sender_key";
    pub const APP_STATE_SYNC_KEY: &str = "app_state_sync_key";
    pub const APP_STATE_META: &str = "app_state_meta";
    pub const APP_STATE_VERSION: &str = "app_state_version";
    pub const MUTATION_MAC: &str = "mutation_mac";
    pub const SENDER_KEY_DEVICE: &str = "sender_key_device";
    pub const LID_MAPPING: &str = "lid_mapping";
    pub const PN_MAPPING: &str = "pn_mapping";
    pub const BASE_KEY: &str = "base_key";
    pub const DEVICE_LIST: &str = "device_list";
    pub const GROUP_METADATA: &str = "group_metadata";
    pub const TC_TOKEN: &str = "tc_token";
    pub const SENT_MESSAGE: &str = "sent_message";
    pub const PENDING_INBOUND: &str = "pending_inbound";
    pub const MSG_SECRET: &str = "msg_secret";
}

/// The storage backend handed to whatsapp-rust for one session.
pub struct KeyStoreBackend {
    keys: KeyStore,
    /// Serializes read-modify-write methods (merges, atomic takes) of this session.
    rmw: Mutex<()>,
    /// Set once the device was logged out: the keys are being wiped, and a late
    /// write from one of the library's background tasks must not bring them back.
    retired: Arc<AtomicBool>,
}

impl KeyStoreBackend {
    pub fn new(keys: KeyStore) -> Self {
        Self::with_retired_flag(keys, Arc::default())
    }

    /// A backend that stops writing once `retired` is set.
    pub fn with_retired_flag(keys: KeyStore, retired: Arc<AtomicBool>) -> Self {
        Self { keys, rmw: Mutex::new(()), retired }
    }

    fn is_retired(&self) -> bool {
        self.retired.load(Ordering::SeqCst)
    }

    pub fn keys(&self) -> &KeyStore {
        &self.keys
    }

    async fn get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>> {
        self.keys.get(namespace, key).await.map_err(db_err)
    }

    async fn put(&self, namespace: &str, key: &str, value: &[u8]) -> Result<()> {
        if self.is_retired() {
            return Ok(());
        }
        self.keys.put(namespace, key, value).await.map_err(db_err)
    }

    async fn delete(&self, namespace: &str, key: &str) -> Result<()> {
        self.keys.delete(namespace, key).await.map_err(db_err)
    }

    /// Entries whose key starts with `prefix`, exactly (the SQL `LIKE` underneath
    /// treats `_`/`%` as wildcards and may ignore case, so results are re-filtered).
    async fn list(&self, namespace: &str, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let mut rows = self.keys.list(namespace, prefix).await.map_err(db_err)?;
        rows.retain(|(key, _)| key.starts_with(prefix));
        Ok(rows)
    }

    async fn delete_namespace(&self, namespace: &str) -> Result<()> {
        self.keys.delete_namespace(namespace).await.map_err(db_err)
    }

    async fn get_json<T: DeserializeOwned>(&self, namespace: &str, key: &str) -> Result<Option<T>> {
        match self.get(namespace, key).await? {
            None => Ok(None),
            Some(bytes) => from_json(&bytes).map(Some),
        }
    }

    async fn put_json<T: Serialize + ?Sized>(&self, namespace: &str, key: &str, value: &T) -> Result<()> {
        let bytes = serde_json::to_vec(value).map_err(ser_err)?;
        self.put(namespace, key, &bytes).await
    }
}

fn db_err(e: KeyStoreError) -> StoreError {
    StoreError::Database(Box::new(e))
}

fn ser_err(e: serde_json::Error) -> StoreError {
    StoreError::Serialization(Box::new(e))
}

fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(ser_err)
}

fn invalid(what: &str) -> StoreError {
    StoreError::Validation(format!("stored {what} is malformed"))
}

/// Escapes one part of a composite key so `|` only ever separates parts.
fn escape(part: &str) -> Cow<'_, str> {
    if part.contains(['%', '|']) {
        Cow::Owned(part.replace('%', "%25").replace('|', "%7C"))
    } else {
        Cow::Borrowed(part)
    }
}

fn unescape(part: &str) -> String {
    part.replace("%7C", "|").replace("%25", "%")
}

/// Joins escaped parts with `|`.
fn join(parts: &[&str]) -> String {
    let mut out = String::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(&escape(part));
    }
    out
}

/// The prefix selecting every composite key whose first parts are `parts`.
fn join_prefix(parts: &[&str]) -> String {
    let mut out = join(parts);
    out.push('|');
    out
}

/// Splits a composite key back into its parts.
fn split(key: &str) -> Vec<String> {
    key.split('|').map(unescape).collect()
}

fn id_key(id: u32) -> String {
    format!("{id:010}")
}

fn parse_id_key(key: &str) -> Option<u32> {
    key.parse().ok()
}

/// `timestamp` (8 bytes, big endian) followed by `payload`.
fn stamp(timestamp: i64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + payload.len());
    out.extend_from_slice(&timestamp.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn unstamp(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (head, rest) = bytes.split_at_checked(8)?;
    let ts = i64::from_be_bytes(head.try_into().ok()?);
    Some((ts, rest))
}

fn now_secs() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn composite_keys_round_trip_with_separators_inside_parts() {
        let key = join(&["a|b", "100%", "x@s.whatsapp.net"]);
        assert_eq!(split(&key), vec!["a|b", "100%", "x@s.whatsapp.net"]);
        assert!(key.starts_with(&join_prefix(&["a|b"])));
        assert!(!join(&["a|bc", "1"]).starts_with(&join_prefix(&["a|b"])));
    }

    #[test]
    fn id_keys_sort_numerically() {
        assert!(id_key(9) < id_key(10));
        assert_eq!(parse_id_key(&id_key(4_000_000_000)), Some(4_000_000_000));
    }

    #[test]
    fn stamped_values_round_trip_and_reject_short_input() {
        let v = stamp(-5, b"xyz");
        assert_eq!(unstamp(&v), Some((-5, &b"xyz"[..])));
        assert_eq!(unstamp(b"short"), None);
    }
}
