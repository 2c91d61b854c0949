//! What the peer remembers: phones, linked devices, live connections, and a record
//! of everything the clients did.

use std::collections::HashMap;
use std::time::Instant;

use serde::Serialize;
use tokio::sync::{mpsc, oneshot};
use wacore_binary::node::Node;

use crate::phone::{AdvIdentity, Phone};

/// A companion device the server knows (after `pair-device-sign`).
pub struct Device {
    pub jid: String,
    pub lid: String,
    pub phone: String,
    pub noise_pub: [u8; 32],
    pub identity_pub: [u8; 32],
    pub registration_id: u32,
    pub signed_prekey: Option<(u32, Vec<u8>, Vec<u8>)>,
    pub prekeys: Vec<(u32, Vec<u8>)>,
    /// The `ADVSignedDeviceIdentity` the companion signed at pairing.
    pub device_identity: Vec<u8>,
}

/// Commands to a connection's task.
#[derive(Debug)]
pub enum Cmd {
    Send(Node),
    /// Send the node, then close the WebSocket cleanly.
    SendAndClose(Node),
    /// Close the WebSocket cleanly.
    Close,
    /// Reset the TCP connection (no WebSocket close).
    Reset,
}

pub struct Conn {
    pub tx: mpsc::UnboundedSender<Cmd>,
    /// The logged-in device, once `success` was sent.
    pub jid: Option<String>,
    /// A registering companion: its noise and identity keys and pairing refs.
    pub registration: Option<Registration>,
}

#[derive(Clone)]
pub struct Registration {
    pub noise_pub: [u8; 32],
    pub identity_pub: [u8; 32],
    pub registration_id: u32,
    pub signed_prekey: (u32, Vec<u8>, Vec<u8>),
    pub refs: Vec<String>,
}

/// A `pair-success` waiting for the companion's `pair-device-sign`.
pub struct PendingPair {
    pub conn: u64,
    pub phone: String,
    pub device_jid: String,
    pub lid: String,
    pub registration: Registration,
    pub adv: AdvIdentity,
    pub done: oneshot::Sender<Result<String, String>>,
}

/// One thing a client did, in order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Record {
    /// A WebSocket connection finished the Noise handshake (`XX` or `IK`).
    Handshake { conn: u64, pattern: String },
    /// A new companion asked to register (no identity yet).
    Registration { conn: u64 },
    /// A known companion logged in.
    Login { conn: u64, jid: String },
    /// A login waiting because tests hold logins ([`crate::Peer::hold_logins`]).
    LoginHeld { conn: u64, user: String },
    /// A login refused with `<failure reason=..>`.
    LoginRefused { conn: u64, jid: String, reason: u32 },
    /// The companion signed its identity; it is now linked.
    Paired { conn: u64, jid: String },
    /// An IQ from the client: namespace, type, first child, whether we answered it
    /// with a result (`false`: an error).
    Iq { conn: u64, xmlns: String, iq_type: String, child: String, answered: bool },
    /// Any other stanza from the client (tag and `type` attribute).
    Stanza { conn: u64, tag: String, stanza_type: String },
    /// A message stanza routed from one device to another (end-to-end encrypted:
    /// the server sees only who, which id, and the `enc` types).
    Routed { conn: u64, from: String, to: String, id: String, enc: Vec<String> },
    /// A receipt routed back to the sender's devices.
    ReceiptRouted { conn: u64, from: String, to: String, id: String, receipt_type: String },
    /// The connection ended.
    Closed { conn: u64 },
}

#[derive(Default)]
pub struct Inner {
    pub phones: HashMap<String, Phone>,
    pub devices: HashMap<String, Device>,
    pub conns: HashMap<u64, Conn>,
    pub pending_pairs: HashMap<String, PendingPair>,
    /// Companions that asked to pair by code, by connection.
    pub code_offers: HashMap<u64, crate::pair_code::CodeOffer>,
    pub records: Vec<Record>,
    pub next_conn: u64,
    pub next_id: u64,
    pub refuse_until: Option<Instant>,
    /// Logins wait (no `success` or `failure`) while this is set.
    pub logins_held: bool,
}

impl Inner {
    pub fn record(&mut self, r: Record) {
        tracing::debug!(?r, "wa-peer");
        self.records.push(r);
    }

    pub fn fresh_id(&mut self) -> String {
        self.next_id += 1;
        format!("peer-{}", self.next_id)
    }

    /// The connection currently logged in as `jid`.
    pub fn conn_of(&self, jid: &str) -> Option<(u64, &Conn)> {
        self.conns.iter().find(|(_, c)| c.jid.as_deref() == Some(jid)).map(|(id, c)| (*id, c))
    }

    /// The registering connection that was offered `pairing_ref`.
    pub fn conn_with_ref(&self, pairing_ref: &str) -> Option<(u64, &Conn)> {
        self.conns
            .iter()
            .find(|(_, c)| c.registration.as_ref().is_some_and(|r| r.refs.iter().any(|x| x == pairing_ref)))
            .map(|(id, c)| (*id, c))
    }
}
