//! What every handler can reach: the services, each holding only what it needs.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::AuthService;
use crate::cluster::NodeRegistry;
use crate::config::Settings;
use crate::domain::EngineKind;
use crate::engine::sim::SimEngine;
use crate::events::EventHub;
use crate::messages::MessageStore;
use crate::sessions::SessionManager;
use crate::webhooks::WebhookService;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub auth: AuthService,
    pub events: Arc<EventHub>,
    pub sessions: SessionManager,
    pub messages: MessageStore,
    pub webhooks: WebhookService,
    pub engine_kind: EngineKind,
    /// Present when the sim engine runs: the phone-side endpoints drive it.
    pub sim: Option<Arc<SimEngine>>,
    /// Serializes session creation so the per-user limit holds under concurrency.
    pub create_lock: tokio::sync::Mutex<()>,
    /// This node's row in the node registry.
    pub nodes: Arc<NodeRegistry>,
    /// Set once the server begins to shut down: WebSockets close with 1001.
    pub shutting_down: tokio::sync::watch::Sender<bool>,
}
