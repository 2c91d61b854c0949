//! Everything the account endpoints and request authentication need, and the one
//! place a presented credential becomes a user.

use std::sync::Arc;

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};
use uuid::Uuid;

use super::cache::UserFacts;
use super::jwt::JwtKeys;
use super::rate_limit::LoginLimiter;
use super::revocations::Revocations;
use crate::config::Settings;
use crate::db::entities::{refresh_token, user};
use crate::domain::{Scope, Scopes};
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
    pub revocations: Revocations,
    pub cache: super::cache::CredentialCache,
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
    /// The API key's scopes; `None` for a bearer token, which acts with the user's full rights.
    pub key_scopes: Option<Scopes>,
    /// Per-user overrides of `max_sessions_per_user` and `daily_message_limit`.
    pub max_sessions: Option<u64>,
    pub daily_message_limit: Option<u64>,
}

impl AuthUser {
    pub fn is_admin(&self) -> bool {
        self.role == "admin"
    }

    /// Whether the credential allows `scope` (the role is checked separately for `admin`).
    pub fn allows(&self, scope: Scope) -> bool {
        self.key_scopes.is_none_or(|s| s.contains(scope))
    }
}

/// The scopes a user may give a key: everything, except `admin` for non-admins.
pub fn grantable_scopes(role: &str) -> Scopes {
    Scopes::of(Scope::ALL.into_iter().filter(|s| *s != Scope::Admin || role == "admin"))
}

/// A verified caller and when the credential stops being valid (`None`: no expiry
/// that the server knows of in advance, as for API keys).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: AuthUser,
    pub expires_at: Option<i64>,
}

impl AuthService {
    /// Checks a credential, that its user exists and is not disabled, and that a token's
    /// refresh family is not revoked; `None` when it is not valid.
    pub async fn authenticate(&self, credential: Credential<'_>) -> Result<Option<Authenticated>, Problem> {
        let (user_id, expires_at, key_scopes) = match credential {
            Credential::AccessToken(token) => match self.jwt.verify(token) {
                Some(claims) => {
                    if let Some(family) = claims.fam {
                        if !self.family_alive(claims.sub, family).await? {
                            return Ok(None);
                        }
                    }
                    (claims.sub, Some(claims.exp), None)
                }
                None => return Ok(None),
            },
            Credential::ApiKey(key) => match super::api_keys::resolve(self, key).await? {
                Some((user_id, scopes)) => (user_id, None, Some(scopes)),
                None => return Ok(None),
            },
        };
        let found = self.user_facts(user_id).await?.filter(|u| !u.disabled);
        Ok(found.map(|u| Authenticated {
            user: AuthUser {
                id: user_id,
                role: u.role,
                key_scopes,
                max_sessions: u.max_sessions.map(|n| n.max(0) as u64),
                daily_message_limit: u.daily_message_limit.map(|n| n.max(0) as u64),
            },
            expires_at,
        }))
    }

    /// Some credential, the role, the limits or the disabled flag of `user_id` changed:
    /// forget what was cached and tell the user's live sockets to re-check theirs.
    pub fn credentials_changed(&self, user_id: Uuid) {
        self.cache.forget(user_id);
        self.revocations.announce(user_id);
    }

    async fn user_facts(&self, user_id: Uuid) -> Result<Option<UserFacts>, Problem> {
        if let Some(facts) = self.cache.user(user_id) {
            return Ok(facts);
        }
        let generation = self.cache.generation();
        let facts = user::Entity::find_by_id(user_id).one(&self.db).await?.map(|u| UserFacts {
            role: u.role,
            disabled: u.disabled,
            max_sessions: u.max_sessions,
            daily_message_limit: u.daily_message_limit,
        });
        self.cache.put_user(generation, user_id, facts.clone());
        Ok(facts)
    }

    /// A family lives while one of its tokens is neither revoked nor expired.
    async fn family_alive(&self, user_id: Uuid, family: Uuid) -> Result<bool, Problem> {
        if let Some(alive) = self.cache.family(family) {
            return Ok(alive);
        }
        let generation = self.cache.generation();
        let live = refresh_token::Entity::find()
            .filter(refresh_token::Column::FamilyId.eq(family))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .filter(refresh_token::Column::ExpiresAt.gt(chrono::Utc::now()))
            .count(&self.db)
            .await?;
        self.cache.put_family(generation, family, user_id, live > 0);
        Ok(live > 0)
    }
}
