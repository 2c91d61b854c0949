//! End-to-end API tests against a real server per test.
//! Run on SQLite by default, on PostgreSQL with WAHUB_TEST_DATABASE_URL=postgres://...

mod admin;
mod auth;
mod errors;
mod lifecycle;
mod messages;
mod nodes;
mod revocation;
mod scopes;
mod sessions;
#[cfg(feature = "wa-peer")]
mod wa_peer_cert;
#[cfg(feature = "wa-peer")]
mod wa_peer_client;
#[cfg(feature = "wa-peer")]
mod wa_peer_control;
#[cfg(feature = "wa-peer")]
mod wa_peer_sessions;
mod webhooks;
#[cfg(feature = "whatsapp")]
mod whatsapp_engine;
#[cfg(feature = "whatsapp")]
mod whatsapp_store;
mod ws;
