//! Server-wide values kept in the `meta` table.

use sea_orm::sea_query::OnConflict;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, Set};

use super::entities::meta;

pub async fn get(db: &DatabaseConnection, key: &str) -> Result<Option<String>, DbErr> {
    Ok(meta::Entity::find_by_id(key.to_owned()).one(db).await?.map(|m| m.value))
}

/// Stores `value` unless the key already has one; returns the value that is stored.
/// Safe when several nodes start at once: the first writer wins.
pub async fn get_or_insert(db: &DatabaseConnection, key: &str, value: String) -> Result<String, DbErr> {
    let row = meta::ActiveModel { key: Set(key.to_owned()), value: Set(value) };
    let _ = meta::Entity::insert(row)
        .on_conflict(OnConflict::column(meta::Column::Key).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    get(db, key).await?.ok_or_else(|| DbErr::RecordNotFound(format!("meta {key}")))
}
