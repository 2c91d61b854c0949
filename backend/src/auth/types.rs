//! Request and response bodies of the auth endpoints.

use poem_openapi::{Enum, Object};
use uuid::Uuid;

use crate::db::entities::{api_key, user};
use crate::domain::{Scope, Scopes};

#[derive(Debug, Object)]
pub struct RegisterRequest {
    pub email: crate::domain::Text,
    pub password: crate::domain::Text,
    pub display_name: Option<crate::domain::Text>,
}

#[derive(Debug, Object)]
pub struct LoginRequest {
    pub email: crate::domain::Text,
    pub password: crate::domain::Text,
}

#[derive(Debug, Object)]
pub struct RefreshRequest {
    pub refresh_token: crate::domain::Text,
}

#[derive(Debug, Clone, Object)]
pub struct UserOut {
    pub id: Uuid,
    pub email: String,
    pub display_name: Option<String>,
    pub role: String,
    pub created_at: crate::domain::Timestamp,
}

impl From<user::Model> for UserOut {
    fn from(u: user::Model) -> Self {
        Self { id: u.id, email: u.email, display_name: u.display_name, role: u.role, created_at: u.created_at.into() }
    }
}

#[derive(Debug, Object)]
pub struct TokenResponse {
    pub user: UserOut,
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

#[derive(Debug, Object)]
pub struct CreateApiKeyRequest {
    pub name: crate::domain::Text,
    #[oai(validator(minimum(value = "1"), maximum(value = "3650")))]
    pub expires_in_days: Option<u32>,
    /// What the key may do. Default: every scope the creator may grant
    /// (`read`, `send`, `control`, and `admin` for admins).
    pub scopes: Option<Vec<ScopeName>>,
}

/// An API key scope: `read` (GETs, WebSocket), `send` (messages), `control` (sessions,
/// webhooks, keys), `admin` (the admin routes, for admins).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "lowercase")]
pub enum ScopeName {
    Read,
    Send,
    Control,
    Admin,
}

impl From<ScopeName> for Scope {
    fn from(s: ScopeName) -> Self {
        match s {
            ScopeName::Read => Scope::Read,
            ScopeName::Send => Scope::Send,
            ScopeName::Control => Scope::Control,
            ScopeName::Admin => Scope::Admin,
        }
    }
}

impl From<Scope> for ScopeName {
    fn from(s: Scope) -> Self {
        match s {
            Scope::Read => ScopeName::Read,
            Scope::Send => ScopeName::Send,
            Scope::Control => ScopeName::Control,
            Scope::Admin => ScopeName::Admin,
        }
    }
}

#[derive(Debug, Object)]
pub struct ApiKeyOut {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub created_at: crate::domain::Timestamp,
    pub expires_at: Option<crate::domain::Timestamp>,
    pub last_used_at: Option<crate::domain::Timestamp>,
    pub scopes: Vec<ScopeName>,
}

impl From<api_key::Model> for ApiKeyOut {
    fn from(k: api_key::Model) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            created_at: k.created_at.into(),
            expires_at: k.expires_at.map(Into::into),
            last_used_at: k.last_used_at.map(Into::into),
            scopes: Scopes::from_stored(&k.scopes).iter().map(Into::into).collect(),
        }
    }
}

#[derive(Debug, Object)]
pub struct CreatedApiKey {
    #[oai(flatten)]
    pub info: ApiKeyOut,
    /// The key itself. Shown only in this response.
    pub key: String,
}
