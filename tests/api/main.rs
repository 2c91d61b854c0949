//! End-to-end API tests against a real server per test.
//! Run on SQLite by default, on PostgreSQL with WAHUB_TEST_DATABASE_URL=postgres://...

mod admin;
mod auth;
mod cluster;
mod cluster_claims;
mod cluster_fanout;
mod cluster_placement;
mod cluster_procs;
mod cluster_qr;
mod cluster_webhooks;
mod errors;
mod event_batches;
mod event_log;
mod incoming_dedupe;
mod leases;
mod lifecycle;
mod messages;
mod metrics;
mod nodes;
mod openapi;
mod otel;
mod outbound_proxy;
mod phone_claims;
mod primary_race;
mod request_id;
mod revocation;
mod scopes;
mod security;
mod send_limits;
mod sessions;
#[cfg(feature = "wa-peer")]
mod wa_peer_cert;
#[cfg(feature = "wa-peer")]
mod wa_peer_client;
#[cfg(feature = "wa-peer")]
mod wa_peer_control;
#[cfg(feature = "wa-peer")]
mod wa_peer_sessions;
mod webhook_cache;
mod webhook_fairness;
mod webhooks;
#[cfg(feature = "whatsapp")]
mod whatsapp_engine;
#[cfg(feature = "whatsapp")]
mod whatsapp_store;
mod ws;
mod ws_memory;
