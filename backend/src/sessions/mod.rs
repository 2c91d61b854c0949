//! Users' WhatsApp sessions: the state machine, one task per session, and the API.

mod context;
mod live;
pub mod machine;
#[cfg(test)]
mod machine_tests;
mod manager;
pub mod name;
pub mod phone;
mod phone_claims;
mod qr_render;
mod routes;
pub mod service;
pub mod status;
mod task;
pub mod types;

pub use context::SessionContext;
pub use manager::SessionManager;
pub use phone_claims::PhoneClaims;
pub use routes::{parse_phone, SessionsApi};
