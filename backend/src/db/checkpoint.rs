//! SQLite WAL checkpoints off the writer's path. A commit that crosses SQLite's automatic
//! checkpoint threshold copies the WAL back into the database file before it returns, so
//! every publish queued behind it waits: that was most of the event path's p99 at a steady
//! rate. The pooled connection checkpoints on its own only past a backstop far above what
//! the background checkpointer lets the WAL reach; a connection of its own copies the WAL
//! back every 100 ms with a PASSIVE checkpoint, which never blocks readers or the writer
//! (short steps: one large copy a second made the tail worse than checkpointing inline).

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, Statement};

/// WAL pages after which the writer's own connection checkpoints anyway (about 40 MB with
/// 4 KiB pages), should the background checkpoints stop.
pub const BACKSTOP_PAGES: u32 = 10_000;

/// What one checkpoint found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalPages {
    /// Pages in the WAL.
    pub log: i64,
    /// Of those, pages now copied into the database file.
    pub checkpointed: i64,
}

impl WalPages {
    /// Pages still only in the WAL (a reader on an older snapshot holds them back).
    pub fn behind(&self) -> i64 {
        (self.log - self.checkpointed).max(0)
    }
}

/// Whether `url` names an SQLite database file (which has a WAL to checkpoint).
pub fn applies_to(url: &str) -> bool {
    super::files::sqlite_path(url).is_some()
}

/// A connection used for nothing but checkpoints.
pub struct Checkpointer {
    conn: DatabaseConnection,
}

impl Checkpointer {
    pub async fn open(url: &str) -> Result<Self, DbErr> {
        Ok(Self { conn: super::connect_without_migrating(url).await? })
    }

    /// Copies what it can of the WAL into the database file without waiting for anyone.
    pub async fn passive(&self) -> Result<WalPages, DbErr> {
        let sql = "PRAGMA wal_checkpoint(PASSIVE)";
        let row = self
            .conn
            .query_one(Statement::from_string(self.conn.get_database_backend(), sql))
            .await?
            .ok_or_else(|| DbErr::Custom("wal_checkpoint returned no row".into()))?;
        // Columns: busy, log, checkpointed (-1 each when the database is not in WAL mode).
        let log: i64 = row.try_get_by_index(1)?;
        let checkpointed: i64 = row.try_get_by_index(2)?;
        Ok(WalPages { log: log.max(0), checkpointed: checkpointed.max(0) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_leaves_the_wal_to_the_checkpointer_which_copies_all_of_it_back() {
        let dir = std::env::temp_dir().join(format!("wahub-checkpoint-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}/c.db?mode=rwc", dir.display());
        let db = super::super::connect_without_migrating(&url).await.expect("connect");
        let backend = db.get_database_backend();
        db.execute(Statement::from_string(backend, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
            .await
            .expect("create");
        // Well past SQLite's default threshold of 1,000 pages, below the backstop.
        for _ in 0..300 {
            let sql = "INSERT INTO t (v) SELECT hex(randomblob(2000)) FROM (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4)";
            db.execute(Statement::from_string(backend, sql)).await.expect("insert");
        }
        let checkpointer = Checkpointer::open(&url).await.expect("checkpointer");
        let first = checkpointer.passive().await.expect("checkpoint");
        assert!(first.log > 1_000, "the writer did not checkpoint on its own: {first:?}");
        assert_eq!(first.behind(), 0, "a passive checkpoint with no reader copies everything: {first:?}");
        let n: i64 = db
            .query_one(Statement::from_string(backend, "SELECT COUNT(*) AS n FROM t"))
            .await
            .expect("count")
            .expect("row")
            .try_get_by_index(0)
            .expect("n");
        assert_eq!(n, 1_200);
        drop(checkpointer);
        db.close().await.ok();
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn only_sqlite_files_have_a_wal() {
        assert!(applies_to("sqlite:///data/wahub.db?mode=rwc"));
        assert!(!applies_to("sqlite::memory:"));
        assert!(!applies_to("sqlite://x.db?mode=memory"));
        assert!(!applies_to("postgres://postgres@127.0.0.1/wahub"));
    }
}
