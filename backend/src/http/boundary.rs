//! Request values turned into domain types, or a problem for the client.

use crate::domain::{Phone, SessionName};
use crate::error::Problem;

pub fn parse_phone(raw: &str) -> Result<Phone, Problem> {
    Phone::parse(raw).map_err(|e| Problem::unprocessable("invalid_phone", e.to_string()))
}

pub fn parse_name(raw: &str) -> Result<SessionName, Problem> {
    SessionName::parse(raw).map_err(|e| Problem::validation(e.to_string()))
}

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
    serde_json::from_slice(&bytes).map_err(|e| Problem::validation(format!("Invalid JSON body: {e}")))
}
