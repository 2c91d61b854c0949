//! Database access: connection, migrations, entities and small shared queries.

pub mod crypto;
pub mod entities;
pub mod meta;

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr};

/// Connects and applies pending migrations.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let conn = connect_without_migrating(url).await?;
    Migrator::up(&conn, None).await?;
    Ok(conn)
}

/// Connects only (for `wahub migrate` status checks and tests that inspect raw rows).
pub async fn connect_without_migrating(url: &str) -> Result<DatabaseConnection, DbErr> {
    let is_sqlite = url.starts_with("sqlite:");
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(30));
    if is_sqlite {
        // SQLite allows one writer; a small pool plus WAL and a busy timeout avoids
        // "database is locked" under concurrent requests.
        opts.max_connections(8).min_connections(1);
    } else {
        opts.max_connections(20).min_connections(1);
    }
    let conn = Database::connect(opts).await?;
    if conn.get_database_backend() == DbBackend::Sqlite {
        conn.execute_unprepared(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;",
        )
        .await?;
    }
    Ok(conn)
}

/// `true` when the database answers a trivial query.
pub async fn ping(conn: &DatabaseConnection) -> bool {
    conn.ping().await.is_ok()
}
