//! Each user's last event sequence number in a counter row, so "seq only grows" holds
//! whatever retention purges. Sequence numbers are taken from this row inside the
//! transaction that stores the events, so any process may publish for any user.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserSeq {
    Table,
    UserId,
    LastSeq,
}

const BACKFILL: &str = "INSERT INTO user_seq (user_id, last_seq) SELECT user_id, MAX(seq) FROM events GROUP BY user_id";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(UserSeq::Table)
                .col(uuid(UserSeq::UserId).primary_key())
                .col(big_integer(UserSeq::LastSeq))
                .to_owned(),
        )
        .await?;
        m.get_connection().execute_unprepared(BACKFILL).await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(UserSeq::Table).to_owned()).await
    }
}
