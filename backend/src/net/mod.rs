//! Outbound HTTP to addresses users give us (webhook endpoints, media URLs) without
//! letting them aim wahub at its own network: every target is resolved and refused when
//! it is not a public address, once when it is registered and again, pinned, when the
//! request connects (a name that resolves differently the second time — DNS rebinding —
//! is checked on the address actually used).

mod address;
mod client;
mod target;

pub use address::is_public;
pub use client::{outbound_client, OutboundOptions};
pub use target::{check_literal, check_url, public_target, TargetError, TargetPolicy};
