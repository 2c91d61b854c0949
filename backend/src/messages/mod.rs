//! Sending and receiving messages, daily limits and health.

pub mod health;
pub mod media;
pub mod send;
mod send_locks;
pub mod sender;
pub mod store;
pub mod types;

pub use send::NewMessage;
pub use send_locks::SendLocks;
pub use sender::MessageSender;
pub use store::MessageStore;
