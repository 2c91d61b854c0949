//! Engines link a session to WhatsApp (or to the built-in simulator).
//!
//! An engine only reports what happened (`EngineEvent`); the session task owns the
//! state machine and decides what each event means for the session's status.

pub mod keystore;
mod sanitize;
pub mod sim;
pub mod sim_phone;
#[cfg(feature = "whatsapp")]
pub mod whatsapp;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use tokio::sync::mpsc;
use uuid::Uuid;

pub use keystore::{KeyStore, KeyStoreError};

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
    /// Fired once the message is committed; until then the network may deliver it again.
    pub ack: Ack,
}

/// Acknowledges an incoming message to the network. The message store fires it after the
/// message (or an earlier copy of it) is committed, never before; an engine whose library
/// acknowledges on its own passes `Ack::none()`. Clones share one acknowledgement.
#[derive(Clone, Default)]
pub struct Ack(Option<Arc<std::sync::Mutex<Option<OnCommit>>>>);

/// What acknowledging does (runs at most once).
type OnCommit = Box<dyn FnOnce() + Send>;

impl Ack {
    pub fn new(on_commit: impl FnOnce() + Send + 'static) -> Self {
        Ack(Some(Arc::new(std::sync::Mutex::new(Some(Box::new(on_commit))))))
    }

    pub fn none() -> Self {
        Ack(None)
    }

    /// Runs the acknowledgement (at most once over all clones).
    pub fn fire(&self) {
        let Some(slot) = &self.0 else { return };
        let on_commit = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(on_commit) = on_commit {
            on_commit();
        }
    }
}

impl std::fmt::Debug for Ack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Ack(pending)" } else { "Ack(none)" })
    }
}

/// Acknowledgements do not make messages different.
impl PartialEq for Ack {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// How far a sent message got, as the network reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiptKind {
    /// The server accepted the message.
    ServerAck,
    /// The recipient's device received it.
    Delivered,
    /// The recipient read it.
    Read,
}

/// A report about a message this session sent, by the id `Link::send` returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub message_id: String,
    pub kind: ReceiptKind,
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
    /// A sent message was acknowledged by the server, delivered or read.
    Receipt(Receipt),
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
    /// Sends a message; returns the engine's message id once it is on the wire. The
    /// server's acknowledgement arrives later as an `EngineEvent::Receipt`.
    async fn send(&self, msg: Outgoing) -> Result<String, EngineError>;
    /// Checks that the connection still answers (a keepalive round trip where the
    /// engine has one). The session task calls it on a link that was quiet for a while.
    async fn probe(&self) -> Result<(), EngineError>;
    /// Asks for a phone-number pairing code instead of QR; the code also arrives as an event.
    async fn pair_with_code(&self, phone: &Phone) -> Result<String, EngineError>;
    /// Unlinks the device on the server side and wipes credentials.
    async fn logout(&self) -> Result<(), EngineError>;
    /// Closes the link, keeping credentials.
    async fn disconnect(&self);
}

pub type SharedEngine = Arc<dyn Engine>;
