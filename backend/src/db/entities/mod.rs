//! sea-orm entities, one per table.

pub mod api_key;
pub mod audit_log;
pub mod engine_key;
pub mod event;
pub mod message;
pub mod meta;
pub mod node;
pub mod refresh_token;
pub mod session;
pub mod user;
pub mod user_seq;
pub mod webhook;
pub mod webhook_delivery;
