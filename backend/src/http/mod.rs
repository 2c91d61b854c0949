//! The HTTP surface: `AppState`, the router, the auth extractor, one routes module
//! per concern, the WebSocket endpoint, operational endpoints and the dashboard.
//! The only layer that sees `AppState`.

mod allow;
mod body_limit;
mod boundary;
pub mod extract;
pub mod listener;
mod openapi;
mod ops;
mod request_id;
mod request_log;
mod router;
mod routes;
mod security_headers;
mod state;
mod unread_body;
mod web;
pub mod ws;

pub use boundary::{optional_json, parse_name, parse_phone};
pub use extract::{scope, Auth};
pub use router::build;
pub use state::AppState;

#[derive(poem_openapi::Tags)]
pub enum ApiTags {
    /// Accounts and tokens
    Auth,
    /// API keys
    ApiKeys,
    /// Linked WhatsApp sessions
    Sessions,
    /// The simulated phone (sim engine only)
    Simulator,
    /// Sending and receiving messages
    Messages,
    /// The event log
    Events,
    /// Signed webhooks
    Webhooks,
    /// Users, all sessions and the audit log (admins only)
    Admin,
    /// Server version and first-visit facts
    Server,
}
