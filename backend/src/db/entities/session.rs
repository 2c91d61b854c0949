use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub name: String,
    pub engine: String,
    pub status: String,
    pub status_reason: Option<String>,
    pub is_primary: bool,
    pub phone: Option<String>,
    pub push_name: Option<String>,
    pub auth_paired: bool,
    pub socket_open: bool,
    pub qr_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub last_connected_at: Option<DateTimeUtc>,
    pub last_disconnected_at: Option<DateTimeUtc>,
    pub last_activity_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
