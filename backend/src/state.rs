//! What every handler can reach.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::auth::jwt::JwtKeys;
use crate::auth::rate_limit::LoginLimiter;
use crate::config::Settings;
use crate::engine::sim::SimEngine;
use crate::engine::EngineKind;
use crate::events::EventHub;
use crate::sessions::SessionManager;
use crate::webhooks::Outbox;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DatabaseConnection,
    pub jwt: JwtKeys,
    pub events: Arc<EventHub>,
    pub sessions: SessionManager,
    pub outbox: Outbox,
    pub engine_kind: EngineKind,
    /// Present when the sim engine runs: the phone-side endpoints drive it.
    pub sim: Option<Arc<SimEngine>>,
    pub login_limiter: LoginLimiter,
    /// Serializes session creation so the per-user limit holds under concurrency.
    pub create_lock: tokio::sync::Mutex<()>,
    /// Verified against for unknown emails, so they take as long as wrong passwords.
    pub dummy_password_hash: String,
}
