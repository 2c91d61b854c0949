//! Users' WhatsApp sessions: the state machine, one task per session, their records.

mod context;
pub mod directory;
pub mod leases;
mod live;
pub mod machine;
#[cfg(test)]
mod machine_tests;
mod manager;
mod phone_claims;
mod placement;
pub mod qr_render;
pub mod route;
pub mod service;
mod task;
pub mod types;

pub use context::SessionContext;
pub use manager::SessionManager;
pub use phone_claims::PhoneClaims;
