//! Engines link a session to WhatsApp (or to the built-in simulator).
//!
//! An engine only reports what happened (`EngineEvent`); the session task owns the
//! state machine and decides what each event means for the session's status.

pub mod keystore;
mod sanitize;
pub mod sim;
#[cfg(feature = "whatsapp")]
pub mod whatsapp;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;
use uuid::Uuid;

pub use keystore::KeyStore;

pub use crate::domain::EngineKind;
use crate::domain::Phone;

/// Why a link ended, as the engine saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// Network trouble; worth reconnecting.
    Network(String),
    /// The engine was asked to disconnect.
    Requested,
}

/// Media attached to an outgoing message.
#[derive(Debug, Clone)]
pub struct OutgoingMedia {
    pub mimetype: String,
    pub data: Vec<u8>,
    pub filename: Option<String>,
    pub caption: Option<String>,
}

/// A message to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub to: Phone,
    pub text: Option<String>,
    pub media: Option<OutgoingMedia>,
}

/// A message that arrived on the linked account.
#[derive(Debug, Clone, PartialEq)]
pub struct Incoming {
    pub external_id: String,
    pub from: Phone,
    pub push_name: Option<String>,
    pub text: Option<String>,
    pub media_mimetype: Option<String>,
    pub timestamp: chrono::DateTime<chrono::Utc>,
}

/// What an engine reports. The names follow the vocabulary of WhatsApp multi-device
/// clients so a real engine maps onto it one to one.
#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The socket to the server is open (before pairing, or while restoring a paired device).
    SocketOpened,
    /// A pairing QR is on offer; it is valid for `timeout`.
    PairingQrCode { code: String, timeout: Duration },
    /// The server will not hand out more QR codes.
    PairingQrCodesExhausted,
    /// A phone-number pairing code is on offer.
    PairingCode { code: String, timeout: Duration },
    /// The phone scanned / entered the code; auth is in progress (socket open, not paired yet).
    PairingStarted { phone: Phone },
    /// Pairing completed; credentials are stored.
    PairSuccess { phone: Phone, push_name: Option<String> },
    /// Pairing failed.
    PairError { reason: String },
    /// Socket open and authenticated: messages can flow.
    Connected { phone: Option<Phone>, push_name: Option<String> },
    /// The link dropped.
    Disconnected { reason: DisconnectReason },
    /// The device was unlinked (from the phone or by logout). Credentials are gone.
    LoggedOut { reason: String },
    /// Another client took over this device's stream.
    StreamReplaced,
    /// WhatsApp banned the account for a while.
    TemporaryBan { reason: String, expires_in: Option<Duration> },
    /// Connecting failed; `permanent` failures are not retried.
    ConnectFailure { reason: String, permanent: bool },
    /// A message arrived.
    Message(Incoming),
}

/// Errors from engine calls.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("not connected")]
    NotConnected,
    #[error("not supported by this engine: {0}")]
    Unsupported(&'static str),
    #[error("{0}")]
    Failed(String),
}

/// Everything an engine needs to open one session's link.
pub struct ConnectSpec {
    pub session_id: Uuid,
    /// Per-session encrypted key/value storage for credentials and protocol state.
    pub keys: KeyStore,
    /// Where the engine sends what happens. Closed by the session task when it stops listening.
    pub events: mpsc::Sender<EngineEvent>,
}

/// Builds links. One instance per server, shared by all session tasks.
#[async_trait]
pub trait Engine: Send + Sync + 'static {
    fn kind(&self) -> EngineKind;

    /// Opens a link: restores stored credentials if there are any, otherwise starts pairing
    /// (QR codes arrive as events). Returns once the attempt is under way; outcome arrives
    /// as events.
    async fn connect(&self, spec: ConnectSpec) -> Result<Box<dyn Link>, EngineError>;
}

/// One open (or opening) link of one session.
#[async_trait]
pub trait Link: Send + Sync {
    /// Sends a message; returns the engine's message id.
    async fn send(&self, msg: Outgoing) -> Result<String, EngineError>;
    /// Asks for a phone-number pairing code instead of QR; the code also arrives as an event.
    async fn pair_with_code(&self, phone: &Phone) -> Result<String, EngineError>;
    /// Unlinks the device on the server side and wipes credentials.
    async fn logout(&self) -> Result<(), EngineError>;
    /// Closes the link, keeping credentials.
    async fn disconnect(&self);
}

pub type SharedEngine = Arc<dyn Engine>;
