//! The per-user event log and its live fan-out.

mod channel;
mod event;
mod hook;
mod hub;
mod order;
mod remote;

pub use channel::Subscription;
pub use event::Event;
pub use hook::{AppendHook, NoHook};
pub use hub::{EventHub, SocketGuard, TxnChange};
