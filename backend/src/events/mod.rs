//! The per-user event log and its live fan-out.

mod channel;
mod event;
mod fanout;
mod hook;
mod hub;
mod local;
mod seq;
mod writer;

pub use channel::Subscription;
pub use event::Event;
pub use fanout::Fanout;
pub use hook::{AppendHook, NoHook};
pub use hub::{Change, EventHub, RowChange, SocketGuard, TxnChange};
pub use local::LocalChannels;
pub use writer::{Answer, Batching};
