//! Opaque refresh tokens with rotation and reuse detection.
//!
//! Each login starts a token family. Refreshing revokes the presented token and issues
//! its successor in the same family. Presenting a revoked token again means it leaked:
//! the whole family is revoked.

use chrono::{Duration, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::AuthService;
use crate::db::entities::{refresh_token, user};
use crate::domain::token::{random_token, token_hash};
use crate::error::Problem;

fn refused() -> Problem {
    Problem::unauthorized("invalid_refresh_token", "The refresh token is invalid, expired or already used.")
}

/// Stores a new refresh token in `family` and returns it.
pub async fn issue(auth: &AuthService, user_id: Uuid, family_id: Uuid) -> Result<(Uuid, String), Problem> {
    let token = random_token("wrt_");
    let id = Uuid::new_v4();
    let now = Utc::now();
    refresh_token::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        family_id: Set(family_id),
        token_hash: Set(token_hash(&token)),
        expires_at: Set(now + Duration::days(auth.settings.auth.refresh_token_ttl_days as i64)),
        revoked_at: Set(None),
        replaced_by: Set(None),
        created_at: Set(now),
    }
    .insert(&auth.db)
    .await?;
    Ok((id, token))
}

/// Exchanges a refresh token for its successor; returns the user, the new token and its family.
pub async fn rotate(auth: &AuthService, presented: &str) -> Result<(user::Model, String, Uuid), Problem> {
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash(presented)))
        .one(&auth.db)
        .await?
        .ok_or_else(refused)?;
    if found.revoked_at.is_some() {
        revoke_family(auth, found.user_id, found.family_id).await?;
        tracing::warn!(user_id = %found.user_id, "refresh token reuse detected; family revoked");
        return Err(refused());
    }
    if found.expires_at <= Utc::now() {
        return Err(refused());
    }
    let user =
        user::Entity::find_by_id(found.user_id).one(&auth.db).await?.filter(|u| !u.disabled).ok_or_else(refused)?;
    let (new_id, new_token) = issue(auth, user.id, found.family_id).await?;
    // Only one of two concurrent refreshes with the same token may win.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .col_expr(refresh_token::Column::ReplacedBy, Expr::value(new_id))
        .filter(refresh_token::Column::Id.eq(found.id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&auth.db)
        .await?;
    if claimed.rows_affected != 1 {
        revoke_family(auth, found.user_id, found.family_id).await?;
        return Err(refused());
    }
    Ok((user, new_token, found.family_id))
}

pub async fn revoke_family(auth: &AuthService, user_id: Uuid, family_id: Uuid) -> Result<(), Problem> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&auth.db)
        .await?;
    auth.credentials_changed(user_id);
    Ok(())
}

/// Revokes every family of a user (when the user is disabled).
pub async fn revoke_all(auth: &AuthService, user_id: Uuid) -> Result<(), Problem> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&auth.db)
        .await?;
    auth.credentials_changed(user_id);
    Ok(())
}

/// Logout: revokes the token's whole family. Unknown tokens are ignored.
pub async fn revoke(auth: &AuthService, presented: &str) -> Result<(), Problem> {
    let found = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(token_hash(presented)))
        .one(&auth.db)
        .await?;
    if let Some(found) = found {
        revoke_family(auth, found.user_id, found.family_id).await?;
    }
    Ok(())
}

/// Removes tokens that expired more than a day ago.
pub async fn purge_expired(auth: &AuthService) -> Result<u64, sea_orm::DbErr> {
    let res = refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::ExpiresAt.lt(Utc::now() - Duration::days(1)))
        .exec(&auth.db)
        .await?;
    Ok(res.rows_affected)
}
