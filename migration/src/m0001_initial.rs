use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    PasswordHash,
    DisplayName,
    Role,
    CreatedAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    RevokedAt,
    ReplacedBy,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    UserId,
    Name,
    Prefix,
    KeyHash,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    Name,
    Engine,
    Status,
    StatusReason,
    IsPrimary,
    Phone,
    PushName,
    AuthPaired,
    SocketOpen,
    QrExpiresAt,
    CreatedAt,
    UpdatedAt,
    LastConnectedAt,
    LastDisconnectedAt,
    LastActivityAt,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    Id,
    UserId,
    Seq,
    Event,
    SessionId,
    Data,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Messages {
    Table,
    Id,
    UserId,
    SessionId,
    Direction,
    Peer,
    Text,
    Media,
    Status,
    Error,
    ExternalId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    UserId,
    Url,
    Events,
    Secret,
    Active,
    CreatedAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    WebhookId,
    UserId,
    Event,
    Payload,
    Status,
    Attempts,
    NextAttemptAt,
    LastStatusCode,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum EngineKeys {
    Table,
    SessionId,
    Namespace,
    Key,
    Value,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Meta {
    Table,
    Key,
    Value,
}

/// A foreign key that deletes the child rows with their parent.
fn cascade<T: IntoIden + 'static, C: IntoIden + 'static, P: IntoIden + 'static, K: IntoIden + 'static>(
    table: T,
    column: C,
    parent: P,
    key: K,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().from(table, column).to(parent, key).on_delete(ForeignKeyAction::Cascade).to_owned()
}

fn index<T: IntoIden + 'static, C: IntoIden + 'static, const N: usize>(
    name: &str,
    table: T,
    columns: [C; N],
    unique: bool,
) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(table);
    for column in columns {
        index.col(column);
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(uuid(Users::Id).primary_key())
                .col(string(Users::Email).unique_key())
                .col(string(Users::PasswordHash))
                .col(string_null(Users::DisplayName))
                .col(string(Users::Role))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(RefreshTokens::Table)
                .col(uuid(RefreshTokens::Id).primary_key())
                .col(uuid(RefreshTokens::UserId))
                .col(uuid(RefreshTokens::FamilyId))
                .col(string(RefreshTokens::TokenHash).unique_key())
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                .col(uuid_null(RefreshTokens::ReplacedBy))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .foreign_key(&mut cascade(RefreshTokens::Table, RefreshTokens::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_refresh_tokens_family", RefreshTokens::Table, [RefreshTokens::FamilyId], false))
            .await?;

        m.create_table(
            Table::create()
                .table(ApiKeys::Table)
                .col(uuid(ApiKeys::Id).primary_key())
                .col(uuid(ApiKeys::UserId))
                .col(string(ApiKeys::Name))
                .col(string(ApiKeys::Prefix))
                .col(string(ApiKeys::KeyHash).unique_key())
                .col(timestamp_with_time_zone(ApiKeys::CreatedAt))
                .col(timestamp_with_time_zone_null(ApiKeys::ExpiresAt))
                .col(timestamp_with_time_zone_null(ApiKeys::LastUsedAt))
                .foreign_key(&mut cascade(ApiKeys::Table, ApiKeys::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(uuid(Sessions::Id).primary_key())
                .col(uuid(Sessions::UserId))
                .col(string(Sessions::Name))
                .col(string(Sessions::Engine))
                .col(string(Sessions::Status))
                .col(string_null(Sessions::StatusReason))
                .col(boolean(Sessions::IsPrimary))
                .col(string_null(Sessions::Phone))
                .col(string_null(Sessions::PushName))
                .col(boolean(Sessions::AuthPaired))
                .col(boolean(Sessions::SocketOpen))
                .col(timestamp_with_time_zone_null(Sessions::QrExpiresAt))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::UpdatedAt))
                .col(timestamp_with_time_zone_null(Sessions::LastConnectedAt))
                .col(timestamp_with_time_zone_null(Sessions::LastDisconnectedAt))
                .col(timestamp_with_time_zone_null(Sessions::LastActivityAt))
                .foreign_key(&mut cascade(Sessions::Table, Sessions::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_sessions_user_name", Sessions::Table, [Sessions::UserId, Sessions::Name], true))
            .await?;
        // At most one primary per user, enforced by the database as well as the code.
        m.get_connection()
            .execute_unprepared("CREATE UNIQUE INDEX idx_sessions_one_primary ON sessions (user_id) WHERE is_primary")
            .await?;

        m.create_table(
            Table::create()
                .table(Events::Table)
                .col(big_integer(Events::Id).primary_key().auto_increment())
                .col(uuid(Events::UserId))
                .col(big_integer(Events::Seq))
                .col(string(Events::Event))
                .col(uuid_null(Events::SessionId))
                .col(text(Events::Data))
                .col(timestamp_with_time_zone(Events::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index("idx_events_user_seq", Events::Table, [Events::UserId, Events::Seq], true)).await?;

        m.create_table(
            Table::create()
                .table(Messages::Table)
                .col(uuid(Messages::Id).primary_key())
                .col(uuid(Messages::UserId))
                .col(uuid(Messages::SessionId))
                .col(string(Messages::Direction))
                .col(string(Messages::Peer))
                .col(text_null(Messages::Text))
                .col(text_null(Messages::Media))
                .col(string(Messages::Status))
                .col(text_null(Messages::Error))
                .col(string_null(Messages::ExternalId))
                .col(timestamp_with_time_zone(Messages::CreatedAt))
                .col(timestamp_with_time_zone(Messages::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_messages_session_created",
            Messages::Table,
            [Messages::SessionId, Messages::CreatedAt],
            false,
        ))
        .await?;
        m.create_index(index(
            "idx_messages_user_created",
            Messages::Table,
            [Messages::UserId, Messages::CreatedAt],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(Webhooks::Table)
                .col(uuid(Webhooks::Id).primary_key())
                .col(uuid(Webhooks::UserId))
                .col(string(Webhooks::Url))
                .col(text(Webhooks::Events))
                .col(string(Webhooks::Secret))
                .col(boolean(Webhooks::Active))
                .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                .foreign_key(&mut cascade(Webhooks::Table, Webhooks::UserId, Users::Table, Users::Id))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(WebhookDeliveries::Table)
                .col(uuid(WebhookDeliveries::Id).primary_key())
                .col(uuid(WebhookDeliveries::WebhookId))
                .col(uuid(WebhookDeliveries::UserId))
                .col(string(WebhookDeliveries::Event))
                .col(text(WebhookDeliveries::Payload))
                .col(string(WebhookDeliveries::Status))
                .col(integer(WebhookDeliveries::Attempts))
                .col(timestamp_with_time_zone(WebhookDeliveries::NextAttemptAt))
                .col(integer_null(WebhookDeliveries::LastStatusCode))
                .col(text_null(WebhookDeliveries::LastError))
                .col(timestamp_with_time_zone(WebhookDeliveries::CreatedAt))
                .col(timestamp_with_time_zone_null(WebhookDeliveries::DeliveredAt))
                .foreign_key(&mut cascade(
                    WebhookDeliveries::Table,
                    WebhookDeliveries::WebhookId,
                    Webhooks::Table,
                    Webhooks::Id,
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_deliveries_due",
            WebhookDeliveries::Table,
            [WebhookDeliveries::Status, WebhookDeliveries::NextAttemptAt],
            false,
        ))
        .await?;

        m.create_table(
            Table::create()
                .table(EngineKeys::Table)
                .col(uuid(EngineKeys::SessionId))
                .col(string(EngineKeys::Namespace))
                .col(string(EngineKeys::Key))
                .col(binary(EngineKeys::Value))
                .col(timestamp_with_time_zone(EngineKeys::UpdatedAt))
                .primary_key(Index::create().col(EngineKeys::SessionId).col(EngineKeys::Namespace).col(EngineKeys::Key))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create().table(Meta::Table).col(string(Meta::Key).primary_key()).col(text(Meta::Value)).to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "meta",
            "engine_keys",
            "webhook_deliveries",
            "webhooks",
            "messages",
            "events",
            "sessions",
            "api_keys",
            "refresh_tokens",
            "users",
        ] {
            m.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        Ok(())
    }
}
