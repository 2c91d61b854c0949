//! Work that one node at a time does for the whole database: on PostgreSQL it runs while
//! this node holds a transaction-scoped advisory lock. Purges skip their turn when another
//! node holds it (`run_exclusive`); migrations wait for it (`run_serialized`). SQLite has
//! one node, which always runs the work.

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

/// Runs `work` while holding `key`, waiting for any other node holding it first (nodes
/// starting together on a fresh database migrate one after the other).
pub async fn run_serialized<T, F>(db: &DatabaseConnection, key: i64, work: F) -> Result<T, DbErr>
where
    F: Future<Output = T>,
{
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(work.await);
    }
    let txn = db.begin().await?;
    txn.execute(Statement::from_string(DatabaseBackend::Postgres, format!("SELECT pg_advisory_xact_lock({key})")))
        .await?;
    let out = work.await;
    txn.commit().await?;
    Ok(out)
}
