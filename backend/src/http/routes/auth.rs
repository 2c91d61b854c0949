//! /api/v1/auth/*, /api/v1/me and /api/v1/api-keys.

use std::sync::Arc;

use poem::web::RemoteAddr;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, OpenApi};
use uuid::Uuid;

use super::ip::client_ip;
use crate::auth::audit::{self, Action, Entry};
use crate::auth::types::*;
use crate::auth::{accounts, api_keys, grantable_scopes, ip_budget, refresh};
use crate::db::entities::user;
use crate::domain::{Scope, Scopes};
use crate::error::Problem;
use crate::http::ApiTags;
use crate::http::AppState;
use crate::http::{scope, Auth};

pub struct AuthApi {
    pub state: Arc<AppState>,
}

#[derive(ApiResponse)]
enum Created<T: poem_openapi::types::ToJSON + Send + Sync> {
    #[oai(status = 201)]
    Created(Json<T>),
}

#[derive(ApiResponse)]
enum NoContent {
    #[oai(status = 204)]
    NoContent,
}

impl AuthApi {
    /// The per-IP budget shared by login, register and refresh.
    fn spend_budget(&self, ip: &str) -> Result<(), Problem> {
        self.state.auth.ip_budget.spend(ip).map_err(|wait| {
            let detail = format!("Too many attempts from this address. Try again in {}.", ip_budget::wait_text(wait));
            Problem::too_many("rate_limited", detail, wait)
        })
    }

    /// A place in the password-hashing queue for this IP, or 429 at once.
    fn hash_ticket(&self, ip: &str) -> Result<ip_budget::HashTicket, Problem> {
        self.state
            .auth
            .hash_gate
            .enter(ip)
            .ok_or_else(|| Problem::too_many("rate_limited", "Too many attempts in progress from this address.", 1))
    }

    async fn tokens_for(&self, user: user::Model, family: Option<Uuid>) -> Result<TokenResponse, Problem> {
        let family = family.unwrap_or_else(Uuid::new_v4);
        let (_, refresh_token) = refresh::issue(&self.state.auth, user.id, family).await?;
        self.response(user, refresh_token, family)
    }

    fn response(&self, user: user::Model, refresh_token: String, family: Uuid) -> Result<TokenResponse, Problem> {
        let access_token =
            self.state.auth.jwt.issue_in_family(user.id, &user.role, Some(family)).map_err(Problem::internal)?;
        Ok(TokenResponse {
            user: user.into(),
            access_token,
            refresh_token,
            token_type: "Bearer".into(),
            expires_in: self.state.auth.jwt.ttl_secs,
        })
    }
}

#[OpenApi(prefix_path = "/api/v1")]
impl AuthApi {
    /// Create an account
    ///
    /// Create an account and get a token pair. The first account of a new server becomes admin.
    #[oai(path = "/auth/register", method = "post", operation_id = "register", tag = "ApiTags::Auth")]
    async fn register(
        &self,
        addr: &RemoteAddr,
        body: Json<RegisterRequest>,
    ) -> Result<Created<TokenResponse>, Problem> {
        if !self.state.settings.auth.registration_open {
            return Err(Problem::forbidden("registration_closed", "Registration is closed on this server."));
        }
        let ip = client_ip(addr);
        self.spend_budget(&ip)?;
        let _ticket = self.hash_ticket(&ip)?;
        let body = body.0;
        let user = accounts::create_user(
            &self.state.auth,
            &body.email,
            &body.password,
            body.display_name.map(String::from),
            false,
        )
        .await?;
        let entry = Entry::new(Action::Register, Some(user.id), Some(client_ip(addr))).target("user", user.id);
        audit::record(&self.state.db, entry.detail(serde_json::json!({ "role": user.role }))).await;
        Ok(Created::Created(Json(self.tokens_for(user, None).await?)))
    }

    /// Log in
    ///
    /// Log in with email and password and get a token pair.
    #[oai(path = "/auth/login", method = "post", operation_id = "login", tag = "ApiTags::Auth")]
    async fn login(&self, addr: &RemoteAddr, body: Json<LoginRequest>) -> Result<Json<TokenResponse>, Problem> {
        let ip = client_ip(addr);
        self.spend_budget(&ip)?;
        let email = body.email.trim().to_lowercase();
        if let Some(wait) = self.state.auth.login_limiter.check(&email, &ip) {
            let detail = format!("Too many failed logins. Try again in {}.", ip_budget::wait_text(wait));
            return Err(Problem::too_many("rate_limited", detail, wait));
        }
        let _ticket = self.hash_ticket(&ip)?;
        match accounts::verify_login(&self.state.auth, &email, &body.password).await {
            Ok(user) => {
                self.state.auth.login_limiter.reset(&email, &ip);
                audit::record(&self.state.db, Entry::new(Action::Login, Some(user.id), Some(ip))).await;
                Ok(Json(self.tokens_for(user, None).await?))
            }
            Err(problem) => {
                if problem.code == "invalid_credentials" {
                    self.state.auth.login_limiter.record_failure(&email, &ip);
                }
                let entry = Entry::new(Action::LoginFailed, None, Some(ip)).email(email_for_log(&email));
                audit::record(&self.state.db, entry.detail(serde_json::json!({ "code": problem.code }))).await;
                Err(problem)
            }
        }
    }

    /// Refresh the token pair
    ///
    /// Exchange a refresh token for a new pair. The presented token stops working.
    #[oai(path = "/auth/refresh", method = "post", operation_id = "refreshTokens", tag = "ApiTags::Auth")]
    async fn refresh(&self, addr: &RemoteAddr, body: Json<RefreshRequest>) -> Result<Json<TokenResponse>, Problem> {
        self.spend_budget(&client_ip(addr))?;
        let (user, refresh_token, family) = refresh::rotate(&self.state.auth, &body.refresh_token).await?;
        Ok(Json(self.response(user, refresh_token, family)?))
    }

    /// Log out
    ///
    /// Revoke a refresh token (and its family); the family's live WebSockets close with 4401.
    #[oai(path = "/auth/logout", method = "post", operation_id = "logout", tag = "ApiTags::Auth")]
    async fn logout(&self, body: Json<RefreshRequest>) -> Result<NoContent, Problem> {
        refresh::revoke(&self.state.auth, &body.refresh_token).await?;
        Ok(NoContent::NoContent)
    }

    /// The caller's account
    ///
    /// The account behind the presented token or API key.
    #[oai(path = "/me", method = "get", operation_id = "getMe", tag = "ApiTags::Auth")]
    async fn me(&self, auth: Auth<scope::Read>) -> Result<Json<UserOut>, Problem> {
        use sea_orm::EntityTrait;
        let user = user::Entity::find_by_id(auth.id())
            .one(&self.state.db)
            .await?
            .ok_or_else(|| Problem::unauthorized("unauthorized", "This account no longer exists."))?;
        Ok(Json(user.into()))
    }

    /// Create an API key
    ///
    /// Create an API key with the given scopes. The key is shown only in this response.
    #[oai(path = "/api-keys", method = "post", operation_id = "createApiKey", tag = "ApiTags::ApiKeys")]
    async fn create_api_key(
        &self,
        auth: Auth<scope::Control>,
        addr: &RemoteAddr,
        body: Json<CreateApiKeyRequest>,
    ) -> Result<Created<CreatedApiKey>, Problem> {
        let scopes = key_scopes(auth.user(), body.scopes.as_deref())?;
        let (row, key) =
            api_keys::create(&self.state.auth, auth.id(), &body.name, body.expires_in_days, scopes).await?;
        let entry = Entry::new(Action::ApiKeyCreated, Some(auth.id()), Some(client_ip(addr))).target("api_key", row.id);
        let detail = serde_json::json!({ "name": row.name, "scopes": scopes.to_stored() });
        audit::record(&self.state.db, entry.detail(detail)).await;
        Ok(Created::Created(Json(CreatedApiKey { info: row.into(), key })))
    }

    /// List API keys
    ///
    /// The caller's API keys, without the keys themselves.
    #[oai(path = "/api-keys", method = "get", operation_id = "listApiKeys", tag = "ApiTags::ApiKeys")]
    async fn list_api_keys(&self, auth: Auth<scope::Read>) -> Result<Json<Vec<ApiKeyOut>>, Problem> {
        let keys = api_keys::list(&self.state.auth, auth.id()).await?;
        Ok(Json(keys.into_iter().map(Into::into).collect()))
    }

    /// Delete an API key
    ///
    /// Delete an API key; it stops working at once and its WebSockets close with 4401.
    #[oai(path = "/api-keys/:id", method = "delete", operation_id = "deleteApiKey", tag = "ApiTags::ApiKeys")]
    async fn delete_api_key(
        &self,
        auth: Auth<scope::Control>,
        addr: &RemoteAddr,
        id: Path<Uuid>,
    ) -> Result<NoContent, Problem> {
        api_keys::delete(&self.state.auth, auth.id(), id.0).await?;
        let entry = Entry::new(Action::ApiKeyDeleted, Some(auth.id()), Some(client_ip(addr))).target("api_key", id.0);
        audit::record(&self.state.db, entry).await;
        Ok(NoContent::NoContent)
    }
}

/// A tried email goes into the audit log only if it looks like one, and bounded.
fn email_for_log(email: &str) -> String {
    email.chars().filter(|c| !c.is_control()).take(254).collect()
}

/// The scopes a new key gets: the requested ones, or all the creator may grant. A key can
/// create keys only within its own scopes, so a key never mints a stronger one.
fn key_scopes(creator: &crate::auth::AuthUser, requested: Option<&[ScopeName]>) -> Result<Scopes, Problem> {
    let mut allowed = grantable_scopes(&creator.role);
    if let Some(own) = creator.key_scopes {
        allowed = Scopes::of(allowed.iter().filter(|s| own.contains(*s)));
    }
    let Some(requested) = requested else { return Ok(allowed) };
    let wanted = Scopes::of(requested.iter().map(|s| Scope::from(*s)));
    if wanted.is_empty() {
        return Err(Problem::validation("scopes must name at least one scope."));
    }
    if let Some(extra) = wanted.iter().find(|s| !allowed.contains(*s)) {
        return Err(Problem::forbidden("scope_not_allowed", format!("You cannot grant the `{extra}` scope.")));
    }
    Ok(wanted)
}
