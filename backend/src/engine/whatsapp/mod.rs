//! The real WhatsApp engine, on the `whatsapp-rust` crate.
//!
//! - [`store`]: whatsapp-rust's storage `Backend` over the session's encrypted `KeyStore`;
//! - [`events`]: the pure mapping of library events onto [`EngineEvent`];
//! - [`link`]: one client per link, its supervisor, and the [`Link`] implementation;
//! - [`outgoing`]: text and media messages;
//! - [`transport`]: reports failed connection attempts;
//! - [`cert_guard`]: a test build that skips the certificate check stays on loopback.
//!
//! Selected per server with `WAHUB_ENGINE=whatsapp`; see docs/engines.md.

pub mod cert_guard;
pub mod events;
pub mod link;
pub mod outgoing;
pub mod store;
pub mod transport;

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::{mpsc, watch};
use whatsapp_rust::bot::Bot;
use whatsapp_rust::transport::{TokioWebSocketTransportFactory, TransportFactory};
use whatsapp_rust::wacore::store::DevicePropsOverride;

use crate::engine::{ConnectSpec, Engine, EngineError, EngineKind, Link};
use link::{forward, supervise, Handler, LinkState, WhatsappLink};
use transport::ReportingTransportFactory;

pub use events::{map_event, SelfInfo};
pub use store::KeyStoreBackend;
/// The library itself, for callers (and tests) that need its types.
pub use whatsapp_rust;

/// Settings of the whatsapp engine.
#[derive(Debug, Clone)]
pub struct WhatsappConfig {
    /// How long a link may take to open its socket before it gives up with
    /// `ConnectFailure`.
    pub connect_timeout: Duration,
    /// The OS name shown on the phone under "Linked devices" (set when pairing).
    pub device_name: String,
    /// WebSocket endpoint; `None` is WhatsApp's own. Tests point it elsewhere.
    pub ws_url: Option<String>,
    /// Fixed WhatsApp Web version `(primary, secondary, tertiary)`; `None` fetches the
    /// current one from WhatsApp once a day.
    pub app_version: Option<(u32, u32, u32)>,
}

impl Default for WhatsappConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            device_name: "wahub".to_owned(),
            ws_url: None,
            app_version: None,
        }
    }
}

/// Links sessions to WhatsApp through whatsapp-rust; one client per link.
#[derive(Debug, Clone, Default)]
pub struct WhatsappEngine {
    config: WhatsappConfig,
}

impl WhatsappEngine {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_config(config: WhatsappConfig) -> Self {
        Self { config }
    }

    /// The engine configured by `whatsapp_ws_url` and `whatsapp_app_version`.
    pub fn from_settings(settings: &crate::config::Settings) -> Self {
        Self::with_config(WhatsappConfig {
            ws_url: settings.sessions.whatsapp_ws_url.clone(),
            app_version: settings.whatsapp_app_version(),
            ..WhatsappConfig::default()
        })
    }

    pub fn config(&self) -> &WhatsappConfig {
        &self.config
    }
}

#[async_trait]
impl Engine for WhatsappEngine {
    fn kind(&self) -> EngineKind {
        EngineKind::Whatsapp
    }

    async fn connect(&self, spec: ConnectSpec) -> Result<Box<dyn Link>, EngineError> {
        let ConnectSpec { session_id, keys, events } = spec;
        cert_guard::check_ws_url(self.config.ws_url.as_deref()).map_err(EngineError::Failed)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(LinkState::new(tx));

        let mut ws = TokioWebSocketTransportFactory::new();
        if let Some(url) = &self.config.ws_url {
            ws = ws.with_url(url.clone());
        }
        let inner: Arc<dyn TransportFactory> = Arc::new(ws);

        let mut builder = Bot::builder()
            .with_backend(KeyStoreBackend::with_retired_flag(keys.clone(), shared.retired_flag()))
            .with_transport_factory(ReportingTransportFactory::new(inner, shared.clone()))
            .with_event_handler(Handler(shared.clone()))
            .with_device_props(DevicePropsOverride::new().with_os(self.config.device_name.clone()))
            .skip_history_sync();
        if let Some(version) = self.config.app_version {
            builder = builder.with_version(version);
        }
        let bot = builder
            .build()
            .await
            .map_err(|e| EngineError::Failed(format!("whatsapp client for session {session_id}: {e}")))?;

        let client = bot.client();
        // The session task owns reconnecting; see link.rs.
        client.enable_auto_reconnect.store(false, Ordering::SeqCst);
        shared.attach(&client);

        let handle = bot.spawn();
        let (close_tx, close_rx) = watch::channel(false);
        let (done_tx, done_rx) = watch::channel(false);
        tokio::spawn(forward(rx, events, done_rx.clone()));
        tokio::spawn(supervise(shared.clone(), client.clone(), handle, close_rx, done_tx, self.config.connect_timeout));
        Ok(Box::new(WhatsappLink::new(client, keys, shared, close_tx, done_rx)))
    }
}
