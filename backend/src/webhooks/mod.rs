//! Signed webhooks: endpoints, the durable outbox and its delivery worker.

mod dispatcher;
mod outbox;
mod retry;
mod routes;
mod service;
pub mod sign;
mod types;
mod validate;

pub use dispatcher::run as run_dispatcher;
pub use outbox::Outbox;
pub use routes::WebhooksApi;
