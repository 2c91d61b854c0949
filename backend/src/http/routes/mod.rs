//! One OpenAPI implementation per concern.

mod auth;
mod events;
mod messages;
mod nodes;
mod sessions;
mod sim;
mod webhooks;

pub use auth::AuthApi;
pub use events::EventsApi;
pub use messages::MessagesApi;
pub use nodes::NodesApi;
pub use sessions::SessionsApi;
pub use sim::SimApi;
pub use webhooks::WebhooksApi;
