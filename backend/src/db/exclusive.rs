//! Work that one node at a time does for the whole database (purges): on PostgreSQL it
//! runs while this node holds a transaction-scoped advisory lock, and a node that finds
//! the lock taken skips its turn. SQLite has one node, which always runs it.

use std::future::Future;

use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement, TransactionTrait};

/// Runs `work` unless another node holds `key`; `None` when skipped.
pub async fn run_exclusive<T, F>(db: &DatabaseConnection, key: i64, work: F) -> Result<Option<T>, DbErr>
where
    F: Future<Output = T>,
{
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(Some(work.await));
    }
    // The lock lives as long as this transaction (one pooled connection); the work itself
    // uses other connections, and a crash releases the lock with the connection.
    let txn = db.begin().await?;
    let row = txn
        .query_one(Statement::from_string(
            DatabaseBackend::Postgres,
            format!("SELECT pg_try_advisory_xact_lock({key}) AS held"),
        ))
        .await?;
    let held = row.map(|r| r.try_get::<bool>("", "held")).transpose()?.unwrap_or(false);
    if !held {
        txn.rollback().await?;
        return Ok(None);
    }
    let out = work.await;
    txn.commit().await?;
    Ok(Some(out))
}
