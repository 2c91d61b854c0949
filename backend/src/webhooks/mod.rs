//! Signed webhooks: endpoints, the durable outbox and its delivery worker.

mod dispatcher;
mod outbox;
mod retry;
pub mod service;
pub mod sign;
pub mod types;
mod validate;

pub use dispatcher::run as run_dispatcher;
pub use outbox::WebhookOutbox;
pub use service::WebhookService;
pub use validate::EVENTS;
