use sea_orm::entity::prelude::*;

/// A user's last event sequence number; survives purging of the events themselves.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_seq")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub last_seq: i64,
    /// Bumped with every change to the user's webhooks (see `webhooks::outbox`).
    pub webhooks_gen: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
