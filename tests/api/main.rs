//! End-to-end API tests against a real server per test.
//! Run on SQLite by default, on PostgreSQL with WAHUB_TEST_DATABASE_URL=postgres://...

mod auth;
mod errors;
mod messages;
mod security;
mod sessions;
mod webhooks;
#[cfg(feature = "whatsapp")]
mod whatsapp_engine;
#[cfg(feature = "whatsapp")]
mod whatsapp_store;
mod ws;
