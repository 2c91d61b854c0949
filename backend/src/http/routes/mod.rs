//! One OpenAPI implementation per concern.

mod admin;
mod auth;
mod events;
mod ip;
mod messages;
mod nodes;
mod server;
mod sessions;
mod sim;
mod webhooks;

pub use admin::AdminApi;
pub use auth::AuthApi;
pub use events::EventsApi;
pub use messages::MessagesApi;
pub use nodes::NodesApi;
pub use server::ServerApi;
pub use sessions::SessionsApi;
pub use sim::SimApi;
pub use webhooks::WebhooksApi;
