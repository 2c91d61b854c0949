//! Accounts, tokens, API keys and the authentication of requests.

pub mod accounts;
pub mod api_keys;
pub mod extract;
pub mod jwt;
pub mod password;
pub mod rate_limit;
pub mod refresh;
mod routes;
pub mod secrets;
pub mod types;

pub use extract::{Auth, AuthUser};
pub use routes::AuthApi;
