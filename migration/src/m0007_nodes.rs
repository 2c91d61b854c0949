//! The node registry: every running wahub process keeps a row here with a heartbeat
//! taken from the database's clock, so nodes agree on who is alive without trusting
//! each other's clocks.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, timestamp_with_time_zone};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Nodes {
    Table,
    Id,
    Version,
    StartedAt,
    /// Milliseconds since the Unix epoch, by the database's clock.
    HeartbeatMs,
    Sessions,
    Sockets,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Nodes::Table)
                .col(string(Nodes::Id).primary_key())
                .col(string(Nodes::Version))
                .col(timestamp_with_time_zone(Nodes::StartedAt))
                .col(big_integer(Nodes::HeartbeatMs))
                .col(big_integer(Nodes::Sessions))
                .col(big_integer(Nodes::Sockets))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(Nodes::Table).to_owned()).await
    }
}
