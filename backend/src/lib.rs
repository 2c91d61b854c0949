//! wahub: link WhatsApp accounts, keep them alive, push everything live.

pub mod api;
pub mod auth;
pub mod cli;
pub mod config;
pub mod db;
pub mod engine;
pub mod events;
pub mod messages;
pub mod sessions;
pub mod startup;
pub mod state;
pub mod web;
pub mod webhooks;
