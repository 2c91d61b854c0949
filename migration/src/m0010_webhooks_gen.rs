//! `user_seq.webhooks_gen`: bumped in the transaction of every change to a user's
//! webhooks. The event transaction already locks and reads the user's counter row, so a
//! node learns there that its cached endpoints are stale — exactly, on every node of a
//! cluster, at no extra query.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum UserSeq {
    Table,
    WebhooksGen,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(UserSeq::Table)
                .add_column(ColumnDef::new(UserSeq::WebhooksGen).big_integer().not_null().default(0))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(Table::alter().table(UserSeq::Table).drop_column(UserSeq::WebhooksGen).to_owned()).await
    }
}
