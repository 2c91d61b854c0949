//! An incoming message is stored once: a redelivery of the same network message id on the
//! same session is refused by a unique index. Duplicates stored before it are removed
//! first (the oldest copy is kept).
//!
//! The key includes `direction`, so an id we generated for a sent message can never
//! shadow a received one. Outgoing rows have no id while queued (NULLs never collide).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Messages {
    Table,
    SessionId,
    Direction,
    ExternalId,
}

const INDEX: &str = "idx_messages_session_external";

const DROP_DUPLICATES: &str = "DELETE FROM messages AS m WHERE m.external_id IS NOT NULL AND EXISTS (\
    SELECT 1 FROM messages AS o WHERE o.session_id = m.session_id AND o.direction = m.direction \
    AND o.external_id = m.external_id \
    AND (o.created_at < m.created_at OR (o.created_at = m.created_at AND o.id < m.id)))";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.get_connection().execute_unprepared(DROP_DUPLICATES).await?;
        m.create_index(
            Index::create()
                .name(INDEX)
                .table(Messages::Table)
                .col(Messages::SessionId)
                .col(Messages::Direction)
                .col(Messages::ExternalId)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(Index::drop().name(INDEX).table(Messages::Table).to_owned()).await
    }
}
