//! What every session task shares.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use super::leases::Leases;
use super::machine::Policy;
use super::phone_claims::PhoneClaims;
use crate::config::Settings;
use crate::db::crypto::Cipher;
use crate::engine::{KeyStore, SharedEngine};
use crate::events::EventHub;
use crate::messages::MessageStore;

pub struct SessionContext {
    pub db: DatabaseConnection,
    pub hub: Arc<EventHub>,
    pub engine: SharedEngine,
    pub settings: Arc<Settings>,
    pub cipher: Arc<Cipher>,
    pub claims: PhoneClaims,
    pub messages: MessageStore,
    /// This node's session leases.
    pub leases: Leases,
    /// Cluster mode: other nodes run sessions too (placement moves sessions between nodes).
    pub cluster: bool,
    /// Cluster mode: forwards commands to the node owning a session.
    pub router: Option<super::route::CommandRouter>,
}

impl SessionContext {
    pub fn keys(&self, session_id: uuid::Uuid) -> KeyStore {
        KeyStore::new(self.db.clone(), self.cipher.clone(), session_id)
    }

    pub fn policy(&self) -> Policy {
        let s = &self.settings;
        Policy {
            reconnect_base: std::time::Duration::from_millis(s.sessions.reconnect_base_ms),
            reconnect_max: std::time::Duration::from_millis(s.sessions.reconnect_max_ms),
            reconnect_max_attempts: s.sessions.reconnect_max_attempts,
        }
    }
}
