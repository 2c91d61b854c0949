//! The words of the product, validated at the boundary and trusted everywhere after:
//! phone numbers, session names, statuses and their reasons, engine kinds, request
//! strings, opaque tokens. Imports nothing of wahub.

pub mod backoff;
mod engine_kind;
mod name;
mod phone;
mod scope;
pub mod status;
pub mod text;
mod time;
pub mod token;

pub use engine_kind::EngineKind;
pub use name::{NameError, SessionName};
pub use phone::{Phone, PhoneError};
pub use scope::{Scope, Scopes};
pub use status::{reason, Status};
pub use text::{NetworkText, Text};
pub use time::Timestamp;
