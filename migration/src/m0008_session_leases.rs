//! Session leases: the node running a session holds a lease row with an epoch and an
//! expiry by the database's clock; every write for the session checks the epoch (fencing).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SessionLeases {
    Table,
    SessionId,
    NodeId,
    Epoch,
    /// Milliseconds since the Unix epoch, by the database's clock.
    ExpiresMs,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(SessionLeases::Table)
                .col(uuid(SessionLeases::SessionId).primary_key())
                .col(string(SessionLeases::NodeId))
                .col(big_integer(SessionLeases::Epoch))
                .col(big_integer(SessionLeases::ExpiresMs))
                .foreign_key(
                    ForeignKey::create()
                        .from(SessionLeases::Table, SessionLeases::SessionId)
                        .to(Sessions::Table, Sessions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_session_leases_node")
                .table(SessionLeases::Table)
                .col(SessionLeases::NodeId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(SessionLeases::Table).to_owned()).await
    }
}
