//! Authentication of REST calls: `Authorization: Bearer <jwt>` or `X-Api-Key: <key>`.

use std::sync::Arc;

use poem::Request;
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::SecurityScheme;
use uuid::Uuid;

use super::AppState;
use crate::auth::{AuthUser, Credential};
use crate::error::Problem;

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

fn unauthorized() -> poem::Error {
    Problem::unauthorized("unauthorized", "A valid access token or API key is required.").into()
}

async fn check(req: &Request, credential: Credential<'_>) -> poem::Result<AuthUser> {
    let state = req.data::<Arc<AppState>>().ok_or_else(|| Problem::internal("app state missing"))?;
    match state.auth.authenticate(credential).await? {
        Some(found) => Ok(found.user),
        None => Err(unauthorized()),
    }
}

async fn check_bearer(req: &Request, bearer: Bearer) -> poem::Result<AuthUser> {
    check(req, Credential::AccessToken(&bearer.token)).await
}

async fn check_api_key(req: &Request, key: ApiKey) -> poem::Result<AuthUser> {
    check(req, Credential::ApiKey(&key.key)).await
}
