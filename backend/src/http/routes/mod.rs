//! One OpenAPI implementation per concern.

mod auth;
mod events;
mod messages;
mod sessions;
mod sim;
mod webhooks;

pub use auth::AuthApi;
pub use events::EventsApi;
pub use messages::MessagesApi;
pub use sessions::SessionsApi;
pub use sim::SimApi;
pub use webhooks::WebhooksApi;
