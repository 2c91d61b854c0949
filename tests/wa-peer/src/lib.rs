//! wa-peer: an offline WhatsApp Web server and a scriptable phone, so the real
//! whatsapp-rust client can be driven end to end on loopback.
//!
//! - [`cert`]: the peer's Noise static key and certificate chain;
//! - [`noise`]: the responder side of the XX/IK handshakes and the frame transport;
//! - [`conn`]: one client connection;
//! - [`server`]: the listener, shared state, and the phone's actions ([`Peer`]);
//! - [`phone`]: the primary device's pairing crypto (QR scan, ADV identity);
//! - [`pair_code`]: pairing by phone code;
//! - [`iq`], [`stanza`]: answers to what a logged-in companion sends;
//! - [`control`]: the HTTP control API of the `wa-peer` binary.
//!
//! See docs/engines.md for what is modelled and what is not.

pub mod cert;
pub mod conn;
pub mod control;
pub mod iq;
pub mod nodes;
pub mod noise;
pub mod pair_code;
pub mod phone;
pub mod server;
pub mod stanza;
pub mod state;

pub use server::{Peer, PeerOptions};
pub use state::Record;
