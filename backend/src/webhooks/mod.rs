//! Signed webhooks: endpoints, the durable outbox and its delivery worker.

mod outbox;

pub use outbox::Outbox;

/// Delivers due webhook deliveries until aborted.
pub async fn run_dispatcher(_state: std::sync::Arc<crate::state::AppState>) {
    std::future::pending::<()>().await
}
