//! The per-user event log, its fan-out, and the WebSocket/REST views of it.

mod channel;
mod event;
mod hub;
mod routes;
pub mod ws;

pub use channel::Subscription;
pub use event::Event;
pub use hub::{EventHub, SocketGuard, TxnChange};
pub use routes::EventsApi;
