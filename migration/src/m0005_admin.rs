//! Admin controls: disabled users, per-user limit overrides, API key scopes and the audit log.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Disabled,
    MaxSessions,
    DailyMessageLimit,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Scopes,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    CreatedAt,
    ActorId,
    ActorEmail,
    Action,
    TargetType,
    TargetId,
    Ip,
    Detail,
}

/// SQLite adds one column per ALTER TABLE.
async fn add_column(m: &SchemaManager<'_>, table: impl IntoIden + 'static, column: ColumnDef) -> Result<(), DbErr> {
    let mut column = column;
    m.alter_table(Table::alter().table(table).add_column(&mut column).to_owned()).await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        add_column(m, Users::Table, boolean(Users::Disabled).default(false).to_owned()).await?;
        add_column(m, Users::Table, integer_null(Users::MaxSessions).to_owned()).await?;
        add_column(m, Users::Table, integer_null(Users::DailyMessageLimit).to_owned()).await?;
        // Keys made before scopes existed keep every right their owner has.
        add_column(m, ApiKeys::Table, string(ApiKeys::Scopes).default("read,send,control,admin").to_owned()).await?;
        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_integer(AuditLog::Id).primary_key().auto_increment())
                .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                .col(uuid_null(AuditLog::ActorId))
                .col(string_null(AuditLog::ActorEmail))
                .col(string(AuditLog::Action))
                .col(string_null(AuditLog::TargetType))
                .col(string_null(AuditLog::TargetId))
                .col(string_null(AuditLog::Ip))
                .col(text_null(AuditLog::Detail))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(AuditLog::Table).to_owned()).await?;
        for (table, column) in [
            (ApiKeys::Table.into_iden(), ApiKeys::Scopes.into_iden()),
            (Users::Table.into_iden(), Users::DailyMessageLimit.into_iden()),
            (Users::Table.into_iden(), Users::MaxSessions.into_iden()),
            (Users::Table.into_iden(), Users::Disabled.into_iden()),
        ] {
            m.alter_table(Table::alter().table(table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
