//! Phone claims: which session holds which phone number, in the database, so that one
//! phone has at most one active session across every node of a cluster. A claim counts
//! while its session's lease is live; the session row going takes its claim with it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string, uuid};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PhoneClaims {
    Table,
    Phone,
    SessionId,
    /// Milliseconds since the Unix epoch, by the database's clock.
    ClaimedMs,
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
                .table(PhoneClaims::Table)
                .col(string(PhoneClaims::Phone).primary_key())
                .col(uuid(PhoneClaims::SessionId))
                .col(big_integer(PhoneClaims::ClaimedMs))
                .foreign_key(
                    ForeignKey::create()
                        .from(PhoneClaims::Table, PhoneClaims::SessionId)
                        .to(Sessions::Table, Sessions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_phone_claims_session")
                .table(PhoneClaims::Table)
                .col(PhoneClaims::SessionId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(PhoneClaims::Table).to_owned()).await
    }
}
