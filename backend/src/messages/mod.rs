//! Sending and receiving messages, daily limits and health.

pub mod health;
mod routes;
pub mod sender;
pub mod store;
pub mod types;

pub use routes::MessagesApi;
