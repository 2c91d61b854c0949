//! Everything the account endpoints and request authentication need, and the one
//! place a presented credential becomes a user.

use std::sync::Arc;

use sea_orm::{DatabaseConnection, EntityTrait};
use uuid::Uuid;

use super::jwt::JwtKeys;
use super::rate_limit::LoginLimiter;
use crate::config::Settings;
use crate::db::entities::user;
use crate::error::Problem;

pub struct AuthService {
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub jwt: JwtKeys,
    pub login_limiter: LoginLimiter,
    /// Attempts per client IP across login, register and refresh.
    pub ip_budget: super::ip_budget::IpBudget,
    /// Password hashes in flight per client IP.
    pub hash_gate: super::ip_budget::HashGate,
    /// Verified against for unknown emails, so they take as long as wrong passwords.
    pub dummy_password_hash: String,
}

/// What a client presents to prove who it is.
#[derive(Debug, Clone, Copy)]
pub enum Credential<'a> {
    AccessToken(&'a str),
    ApiKey(&'a str),
}

/// The caller of an authenticated endpoint.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub id: Uuid,
    pub role: String,
}

/// A verified caller and when the credential stops being valid (`None`: no expiry
/// that the server knows of in advance, as for API keys).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: AuthUser,
    pub expires_at: Option<i64>,
}

impl AuthService {
    /// Checks a credential and that its user still exists; `None` when it is not valid.
    pub async fn authenticate(&self, credential: Credential<'_>) -> Result<Option<Authenticated>, Problem> {
        let (user_id, expires_at) = match credential {
            Credential::AccessToken(token) => match self.jwt.verify(token) {
                Some(claims) => (claims.sub, Some(claims.exp)),
                None => return Ok(None),
            },
            Credential::ApiKey(key) => match super::api_keys::resolve(self, key).await? {
                Some(user_id) => (user_id, None),
                None => return Ok(None),
            },
        };
        let found = user::Entity::find_by_id(user_id).one(&self.db).await?;
        Ok(found.map(|u| Authenticated { user: AuthUser { id: u.id, role: u.role }, expires_at }))
    }
}
