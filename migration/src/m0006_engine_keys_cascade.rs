//! A session's engine keys go with the session: `engine_keys.session_id` references
//! `sessions.id` with `ON DELETE CASCADE`, so credentials can never be orphaned.
//! Keys already orphaned are dropped. SQLite cannot add a foreign key to an existing
//! table, so there the table is rebuilt.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const ORPHANS: &str = "DELETE FROM engine_keys WHERE session_id NOT IN (SELECT id FROM sessions)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        db.execute_unprepared(ORPHANS).await?;
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(db, true).await,
            _ => {
                db.execute_unprepared(
                    "ALTER TABLE engine_keys ADD CONSTRAINT fk_engine_keys_session \
                     FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE",
                )
                .await?;
                Ok(())
            }
        }
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        match db.get_database_backend() {
            DatabaseBackend::Sqlite => rebuild_sqlite(db, false).await,
            _ => {
                db.execute_unprepared("ALTER TABLE engine_keys DROP CONSTRAINT fk_engine_keys_session").await?;
                Ok(())
            }
        }
    }
}

const FK: &str = ", FOREIGN KEY (\"session_id\") REFERENCES \"sessions\" (\"id\") ON DELETE CASCADE";

/// Recreates `engine_keys` from its own DDL (with or without the foreign key) and
/// copies its rows over.
async fn rebuild_sqlite(db: &SchemaManagerConnection<'_>, with_fk: bool) -> Result<(), DbErr> {
    let row = db
        .query_one(sea_orm_migration::sea_orm::Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'engine_keys'",
        ))
        .await?
        .ok_or_else(|| DbErr::Migration("engine_keys does not exist".into()))?;
    let ddl: String = row.try_get("", "sql")?;
    let body = ddl.trim_end().strip_suffix(')').ok_or_else(|| DbErr::Migration("unexpected engine_keys DDL".into()))?;
    let body = body.replace(FK, "");
    let open = body.find('(').ok_or_else(|| DbErr::Migration("unexpected engine_keys DDL".into()))?;
    let columns = &body[open..];
    let fk = if with_fk { FK } else { "" };
    db.execute_unprepared(&format!("CREATE TABLE \"engine_keys_rebuilt\" {columns}{fk})")).await?;
    db.execute_unprepared(
        "INSERT INTO engine_keys_rebuilt (session_id, namespace, key, value, updated_at) \
         SELECT session_id, namespace, key, value, updated_at FROM engine_keys",
    )
    .await?;
    db.execute_unprepared("DROP TABLE engine_keys").await?;
    db.execute_unprepared("ALTER TABLE engine_keys_rebuilt RENAME TO engine_keys").await?;
    Ok(())
}
