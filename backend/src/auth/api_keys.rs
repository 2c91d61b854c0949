//! API keys: long random secrets, stored as hashes, shown once.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::AuthService;
use crate::db::entities::api_key;
use crate::domain::token::{random_token, token_hash};
use crate::domain::Scopes;
use crate::error::Problem;

pub async fn create(
    auth: &AuthService,
    user_id: Uuid,
    name: &str,
    expires_in_days: Option<u32>,
    scopes: Scopes,
) -> Result<(api_key::Model, String), Problem> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Problem::validation("name must be 1 to 100 characters."));
    }
    if crate::domain::text::has_control(name) {
        return Err(Problem::validation("name must not contain control characters."));
    }
    let key = random_token("wah_");
    let now = Utc::now();
    let row = api_key::ActiveModel {
        id: Set(Uuid::new_v4()),
        user_id: Set(user_id),
        name: Set(name.to_owned()),
        prefix: Set(key.chars().take(10).collect()),
        key_hash: Set(token_hash(&key)),
        created_at: Set(now),
        expires_at: Set(expires_in_days.map(|d| now + Duration::days(d as i64))),
        last_used_at: Set(None),
        scopes: Set(scopes.to_stored()),
    }
    .insert(&auth.db)
    .await?;
    Ok((row, key))
}

pub async fn list(auth: &AuthService, user_id: Uuid) -> Result<Vec<api_key::Model>, Problem> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::UserId.eq(user_id))
        .order_by_desc(api_key::Column::CreatedAt)
        .all(&auth.db)
        .await?)
}

pub async fn delete(auth: &AuthService, user_id: Uuid, id: Uuid) -> Result<(), Problem> {
    let res = api_key::Entity::delete_many()
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::UserId.eq(user_id))
        .exec(&auth.db)
        .await?;
    if res.rows_affected == 0 {
        return Err(Problem::not_found("No such API key."));
    }
    auth.credentials_changed(user_id);
    Ok(())
}

/// The owner and scopes of a valid, unexpired key.
pub async fn resolve(auth: &AuthService, key: &str) -> Result<Option<(Uuid, Scopes)>, Problem> {
    let hash = token_hash(key);
    if let Some(known) = auth.cache.key(&hash) {
        return Ok(Some(known));
    }
    let generation = auth.cache.generation();
    let found = api_key::Entity::find().filter(api_key::Column::KeyHash.eq(hash.clone())).one(&auth.db).await?;
    let Some(found) = found else { return Ok(None) };
    if found.expires_at.is_some_and(|t| t <= Utc::now()) {
        return Ok(None);
    }
    let stale = found.last_used_at.is_none_or(|t| Utc::now() - t > Duration::minutes(1));
    if stale {
        api_key::Entity::update_many()
            .col_expr(api_key::Column::LastUsedAt, Expr::value(Utc::now()))
            .filter(api_key::Column::Id.eq(found.id))
            .exec(&auth.db)
            .await?;
    }
    let scopes = Scopes::from_stored(&found.scopes);
    auth.cache.put_key(generation, hash, found.user_id, scopes, found.expires_at);
    Ok(Some((found.user_id, scopes)))
}
