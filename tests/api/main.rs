//! End-to-end API tests against a real server per test.
//! Run on SQLite by default, on PostgreSQL with WAHUB_TEST_DATABASE_URL=postgres://...

mod auth;
mod errors;
mod sessions;
mod messages;
mod webhooks;
mod ws;
#[cfg(feature = "whatsapp")]
mod whatsapp_store;
#[cfg(feature = "whatsapp")]
mod whatsapp_engine;
