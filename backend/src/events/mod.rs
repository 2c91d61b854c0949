//! The per-user event log and its live fan-out.

mod channel;
mod cluster;
mod event;
mod fanout;
mod hook;
mod hub;
mod local;
mod order;
mod remote;
mod rows;
mod seq;
mod writer;

pub use channel::Subscription;
pub use cluster::ClusterFanout;
pub use event::Event;
pub use fanout::Fanout;
pub use hook::{AppendHook, NoHook};
pub use hub::{Change, EventHub, RowChange, SocketGuard, TxnChange};
pub use local::LocalChannels;
pub use rows::Upsert;
pub use seq::bump_webhooks_gen;
pub use writer::{Answer, Batching};
