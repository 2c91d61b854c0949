//! wahub: link WhatsApp accounts, keep them alive, push everything live.

// Lowest layer first; a module imports only those above it in this list (the
// layering test in backend/tests/layering.rs enforces the table it keeps).
pub mod domain;
pub mod error;
pub mod metrics;
pub mod otel;

pub mod config;
pub mod db;
pub mod net;

pub mod cluster;

pub mod engine;
pub mod events;

pub mod messages;
pub mod webhooks;

pub mod auth;
pub mod sessions;

pub mod http;

pub mod healthcheck;

pub mod cli;
pub mod startup;
