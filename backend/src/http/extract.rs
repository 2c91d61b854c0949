//! Authentication of REST calls: `Authorization: Bearer <jwt>` or `X-Api-Key: <key>`,
//! and the scope each route needs.
//!
//! A handler takes `auth: Auth<scope::Read>` (or `Send`, `Control`, `Admin`): the type
//! parameter is the one place a route declares what it needs. An API key without that
//! scope answers 403 `insufficient_scope`; bearer tokens act with the user's full rights.
//! `Auth<scope::Admin>` also needs the admin role and answers 404 to everyone else, so
//! the admin routes do not reveal that they exist.

use std::marker::PhantomData;
use std::sync::Arc;

use poem::{Request, RequestBody};
use poem_openapi::auth::{ApiKey, Bearer};
use poem_openapi::registry::Registry;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions, SecurityScheme};
use uuid::Uuid;

use super::AppState;
use crate::auth::{AuthUser, Credential};
use crate::domain::Scope;
use crate::error::Problem;

#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", checker = "check_bearer")]
pub struct BearerAuth(AuthUser);

#[derive(SecurityScheme)]
#[oai(ty = "api_key", key_name = "X-Api-Key", key_in = "header", checker = "check_api_key")]
pub struct ApiKeyAuth(AuthUser);

/// Either scheme.
#[derive(SecurityScheme)]
pub enum AnyCredential {
    Bearer(BearerAuth),
    ApiKey(ApiKeyAuth),
}

/// The scope markers a route names in `Auth<S>`.
pub mod scope {
    use crate::domain::Scope;

    pub trait Needs: std::marker::Send + Sync + 'static {
        const SCOPE: Scope;
    }

    macro_rules! marker {
        ($name:ident, $scope:expr) => {
            pub struct $name;
            impl Needs for $name {
                const SCOPE: Scope = $scope;
            }
        };
    }

    marker!(Read, Scope::Read);
    marker!(Send, Scope::Send);
    marker!(Control, Scope::Control);
    marker!(Admin, Scope::Admin);
}

/// An authenticated caller whose credential allows scope `S`.
pub struct Auth<S: scope::Needs> {
    user: AuthUser,
    _scope: PhantomData<S>,
}

impl<S: scope::Needs> Auth<S> {
    pub fn user(&self) -> &AuthUser {
        &self.user
    }

    pub fn id(&self) -> Uuid {
        self.user.id
    }
}

/// Whether `user` may call a route that needs `scope`.
pub fn permit(user: &AuthUser, scope: Scope) -> Result<(), Problem> {
    if scope == Scope::Admin && !user.is_admin() {
        return Err(Problem::not_found("Not found."));
    }
    if !user.allows(scope) {
        return Err(Problem::forbidden(
            "insufficient_scope",
            format!("This API key lacks the `{scope}` scope needed here."),
        ));
    }
    Ok(())
}

impl<'a, S: scope::Needs> ApiExtractor<'a> for Auth<S> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <AnyCredential as ApiExtractor<'a>>::register(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        <AnyCredential as ApiExtractor<'a>>::security_schemes()
    }

    fn has_security_fallback() -> bool {
        <AnyCredential as ApiExtractor<'a>>::has_security_fallback()
    }

    async fn from_request(
        req: &'a Request,
        body: &mut RequestBody,
        param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        // With both headers, one valid credential must not carry an invalid one.
        if req.headers().contains_key(poem::http::header::AUTHORIZATION) && req.headers().contains_key("x-api-key") {
            return Err(Problem::unauthorized(
                "ambiguous_credentials",
                "Send either `Authorization` or `X-Api-Key`, not both.",
            )
            .into());
        }
        let user = match AnyCredential::from_request(req, body, param_opts).await? {
            AnyCredential::Bearer(b) => b.0,
            AnyCredential::ApiKey(k) => k.0,
        };
        permit(&user, S::SCOPE)?;
        Ok(Self { user, _scope: PhantomData })
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
