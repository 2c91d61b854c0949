//! Authentication of REST calls: `Authorization: Bearer <jwt>` or `X-Api-Key: <key>`.

use std::sync::Arc;

use poem::Request;
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::SecurityScheme;
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::api::Problem;
use crate::db::entities::user;
use crate::state::AppState;

/// The caller of an authenticated endpoint.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: String,
}

#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(AuthUser);

#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-Api-Key", key_in = "header", checker = "check_api_key")]
pub struct ApiKeyAuth(AuthUser);

/// Either scheme.
#[derive(SecurityScheme)]
pub enum Auth {
    Bearer(BearerAuth),
    ApiKey(ApiKeyAuth),
}

impl Auth {
    pub fn user(&self) -> &AuthUser {
        match self {
            Auth::Bearer(b) => &b.0,
            Auth::ApiKey(k) => &k.0,
        }
    }

    pub fn id(&self) -> Uuid {
        self.user().id
    }
}

fn state(req: &Request) -> poem::Result<&Arc<AppState>> {
    req.data::<Arc<AppState>>().ok_or_else(|| Problem::internal("app state missing").into())
}

fn unauthorized() -> poem::Error {
    Problem::unauthorized("unauthorized", "A valid access token or API key is required.").into()
}

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<AuthUser> {
    let state = state(req)?;
    user_from_access_token(state, &bearer.token).await?.ok_or_else(unauthorized)
}

async fn check_api_key(req: &Request, key: ApiKey) -> poem::Result<AuthUser> {
    let state = state(req)?;
    user_from_api_key(state, &key.key).await?.ok_or_else(unauthorized)
}

/// Checks an access token and that its user still exists.
pub async fn user_from_access_token(state: &AppState, token: &str) -> Result<Option<AuthUser>, Problem> {
    let Some(claims) = state.jwt.verify(token) else { return Ok(None) };
    let exists = user::Entity::find_by_id(claims.sub).one(&state.db).await?;
    Ok(exists.map(|u| AuthUser { id: u.id, role: u.role }))
}

pub async fn user_from_api_key(state: &AppState, key: &str) -> Result<Option<AuthUser>, Problem> {
    let Some(user_id) = super::api_keys::resolve(state, key).await? else { return Ok(None) };
    let exists = user::Entity::find_by_id(user_id).one(&state.db).await?;
    Ok(exists.map(|u| AuthUser { id: u.id, role: u.role }))
}
