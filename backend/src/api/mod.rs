//! HTTP routing, the error type, OpenAPI and operational endpoints.

mod body_limit;
pub mod metrics;
mod ops;
mod problem;
mod routes;
mod text;

pub use text::Text;

/// Parses an optional JSON body: empty means `T::default()`.
pub async fn optional_json<T: serde::de::DeserializeOwned + Default>(
    body: poem::Body,
    max: usize,
) -> Result<T, Problem> {
    let bytes = body.into_bytes_limit(max).await.map_err(|_| {
        Problem::new(poem::http::StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large.")
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| Problem::bad_request("validation_failed", format!("Invalid JSON body: {e}")))
}

pub use problem::{from_poem_error, Problem, ProblemBody};
pub use routes::build;

#[derive(poem_openapi::Tags)]
pub enum ApiTags {
    /// Accounts and tokens
    Auth,
    /// API keys
    ApiKeys,
    /// Linked WhatsApp sessions
    Sessions,
    /// The simulated phone (sim engine only)
    Simulator,
    /// Sending and receiving messages
    Messages,
    /// The event log
    Events,
    /// Signed webhooks
    Webhooks,
}
