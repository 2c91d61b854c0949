//! Sending and receiving messages, daily limits and health.

pub mod health;
pub mod media;
pub mod sender;
pub mod store;
pub mod types;

pub use sender::MessageSender;
pub use store::MessageStore;
