//! Work that must commit together with an event, plugged in by layers above the log
//! (the webhook outbox) without the log knowing them.

use async_trait::async_trait;
use sea_orm::{DatabaseTransaction, DbErr};

use super::Event;

/// Runs inside the transaction that stores each event; an error rolls the event back.
#[async_trait]
pub trait AppendHook: Send + Sync + 'static {
    async fn appended(&self, txn: &DatabaseTransaction, event: &Event) -> Result<(), DbErr>;
}

/// No work beside the event itself.
pub struct NoHook;

#[async_trait]
impl AppendHook for NoHook {
    async fn appended(&self, _txn: &DatabaseTransaction, _event: &Event) -> Result<(), DbErr> {
        Ok(())
    }
}
