//! Accounts, tokens, API keys and the authentication of requests.

pub mod accounts;
pub mod admin;
pub mod admin_types;
pub mod api_keys;
pub mod audit;
pub mod cache;
pub mod ip_budget;
pub mod jwt;
pub mod jwt_secret;
pub mod password;
pub mod rate_limit;
pub mod refresh;
pub mod revocations;
pub mod types;

mod service;

pub use service::{grantable_scopes, AuthService, AuthUser, Authenticated, Credential};
