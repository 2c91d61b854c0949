//! Accounts, tokens, API keys and the authentication of requests.

pub mod accounts;
pub mod api_keys;
pub mod ip_budget;
pub mod jwt;
pub mod jwt_secret;
pub mod password;
pub mod rate_limit;
pub mod refresh;
pub mod types;

mod service;

pub use service::{AuthService, AuthUser, Authenticated, Credential};
