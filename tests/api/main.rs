//! End-to-end API tests against a real server per test.
//! Run on SQLite by default, on PostgreSQL with WAHUB_TEST_DATABASE_URL=postgres://...

mod auth;
mod errors;
mod incoming_dedupe;
mod messages;
mod phone_claims;
mod primary_race;
mod send_limits;
mod sessions;
mod webhook_cache;
mod webhook_fairness;
mod webhooks;
#[cfg(feature = "whatsapp")]
mod whatsapp_engine;
#[cfg(feature = "whatsapp")]
mod whatsapp_store;
mod ws;
mod ws_memory;
