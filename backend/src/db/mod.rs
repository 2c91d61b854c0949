//! Database access: connection, migrations, entities and small shared queries.

pub mod checkpoint;
pub mod constraint;
pub mod crypto;
pub mod entities;
pub mod exclusive;
pub mod fence;
pub mod files;
pub mod meta;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Advisory lock key of migrations (PostgreSQL); other keys: housekeeping, node join.
const MIGRATION_LOCK: i64 = 0x7761_6875_6202;

/// Connects and applies pending migrations (one node at a time on a shared database).
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let conn = connect_without_migrating(url).await?;
    exclusive::run_serialized(&conn, MIGRATION_LOCK, Migrator::up(&conn, None)).await??;
    Ok(conn)
}

/// Connects only (for `wahub migrate` status checks and tests that inspect raw rows).
pub async fn connect_without_migrating(url: &str) -> Result<DatabaseConnection, DbErr> {
    let is_sqlite = url.starts_with("sqlite:");
    if is_sqlite {
        files::private_sqlite_file(url).map_err(|e| DbErr::Custom(format!("cannot prepare the database file: {e}")))?;
    }
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false).connect_timeout(Duration::from_secs(10)).acquire_timeout(Duration::from_secs(30));
    if is_sqlite {
        // SQLite allows one writer at a time. Several pooled connections would compete
        // for the write lock through SQLite's busy handler, which sleeps in steps of up to
        // 100 ms (measured: p99 fan-out latency 158 ms, max 1.2 s); one connection queues
        // statements in order instead (p99 61 ms, max 79 ms). WAL keeps reads cheap, and
        // the busy timeout covers other processes (e.g. `wahub migrate`) on the same file.
        // Code holding a transaction must not query through `db` (it would stall until the
        // acquire timeout); every transaction here uses only its own handle.
        // A connection to a file in this process cannot be cut off, so the pool does not ping
        // it before every use: on the one connection each ping was a round trip to its worker
        // thread, queued behind the writer's transactions, once per batch and per query.
        opts.max_connections(1).min_connections(1).test_before_acquire(false).map_sqlx_sqlite_opts(|o| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Checkpoints run in the background (`checkpoint`); this is the backstop.
                .pragma("wal_autocheckpoint", checkpoint::BACKSTOP_PAGES.to_string())
                // A WAL that grew under a burst is cut back to this when it starts over.
                .pragma("journal_size_limit", (64 * 1024 * 1024).to_string())
        });
    } else {
        opts.max_connections(20).min_connections(1);
    }
    Database::connect(opts).await
}

/// `true` when the database answers a trivial query.
pub async fn ping(conn: &DatabaseConnection) -> bool {
    conn.ping().await.is_ok()
}
