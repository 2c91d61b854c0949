//! The per-user event log, its fan-out, and the WebSocket/REST views of it.

mod hub;
mod routes;
pub mod ws;

pub use hub::{Event, EventHub, Replay};
pub use routes::EventsApi;
