//! RFC 9457 problem details: the one error type every handler returns.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use poem_openapi::registry::{MetaMediaType, MetaResponse, MetaResponses, Registry};
use poem_openapi::types::ToJSON;
use poem_openapi::{ApiResponse, Object};

pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// The body of every error response.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Problem")]
pub struct ProblemBody {
    /// A URI reference naming the problem type.
    #[oai(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// Stable machine-readable code, e.g. `name_taken`.
    pub code: String,
    /// The request's `X-Request-Id` (as sent by the client, or generated), for support.
    #[oai(skip_serializing_if_is_none)]
    pub request_id: Option<String>,
}

tokio::task_local! {
    /// The id of the request being answered, set by the HTTP layer around each request.
    pub static REQUEST_ID: String;
}

/// The current request's id, when called while answering one.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// An error answered to the client. Internal causes are logged, never sent.
#[derive(Debug, Clone)]
pub struct Problem {
    pub status: StatusCode,
    pub code: &'static str,
    pub detail: String,
    pub retry_after_secs: Option<u64>,
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, detail: detail.into(), retry_after_secs: None }
    }

    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", detail)
    }

    pub fn unprocessable(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    pub fn unauthorized(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    pub fn forbidden(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// Every 429 says when to try again.
    pub fn too_many(code: &'static str, detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self { retry_after_secs: Some(retry_after_secs), ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, detail) }
    }

    /// Logs the cause and answers a generic 500.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "Something went wrong on our side.")
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", detail)
    }

    /// Same status, a more specific code.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }

    pub fn body(&self) -> ProblemBody {
        ProblemBody {
            kind: format!("https://wahub.dev/problems/{}", self.code.replace('_', "-")),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.to_owned(),
            request_id: current_request_id(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl std::error::Error for Problem {}

impl From<sea_orm::DbErr> for Problem {
    fn from(err: sea_orm::DbErr) -> Self {
        Problem::internal(err)
    }
}

impl poem::error::ResponseError for Problem {
    fn status(&self) -> StatusCode {
        self.status
    }

    fn as_response(&self) -> Response {
        let body = self.body().to_json_string();
        let mut resp = Response::builder().status(self.status).content_type(PROBLEM_CONTENT_TYPE).body(body);
        if let Some(secs) = self.retry_after_secs {
            if let Ok(value) = secs.to_string().parse() {
                resp.headers_mut().insert(poem::http::header::RETRY_AFTER, value);
            }
        }
        resp
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        poem::error::ResponseError::as_response(&self)
    }
}

impl ApiResponse for Problem {
    fn meta() -> MetaResponses {
        MetaResponses {
            responses: vec![MetaResponse {
                description: "Problem details (RFC 9457)",
                status: None,
                status_range: None,
                content: vec![MetaMediaType {
                    content_type: PROBLEM_CONTENT_TYPE,
                    schema: <ProblemBody as poem_openapi::types::Type>::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut Registry) {
        <ProblemBody as poem_openapi::types::Type>::register(registry);
    }
}

/// Turns any error that escaped a handler (unknown route, unparsable body, body too
/// large, failed auth) into a problem body with a fitting code.
pub fn from_poem_error(err: poem::Error) -> Response {
    if let Some(problem) = err.downcast_ref::<Problem>() {
        return problem.as_response_ref();
    }
    // A `Text` refused NUL (domain::text::NUL_REFUSED): a valid JSON string the server
    // will not store, so 422 rather than the framework's 400.
    if err.status() == StatusCode::BAD_REQUEST && err.to_string().contains("must not contain NUL (U+0000)") {
        return Problem::unprocessable("invalid_text", "Text must not contain NUL (U+0000) characters.")
            .into_response();
    }
    // One status for every malformed request, type errors included (docs/contract-notes.md).
    let status = match err.status() {
        StatusCode::BAD_REQUEST => StatusCode::UNPROCESSABLE_ENTITY,
        other => other,
    };
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::UNAUTHORIZED => "unauthorized",
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::TOO_MANY_REQUESTS => "rate_limited",
        s if s.is_server_error() => "internal",
        _ => "validation_failed",
    };
    let detail = if status.is_server_error() {
        tracing::error!(error = %err, "unhandled error");
        "Something went wrong on our side.".to_owned()
    } else {
        err.to_string()
    };
    let retry = (status == StatusCode::TOO_MANY_REQUESTS).then_some(1);
    Problem { retry_after_secs: retry, ..Problem::new(status, code, detail) }.into_response()
}

trait AsResponseRef {
    fn as_response_ref(&self) -> Response;
}

impl AsResponseRef for Problem {
    fn as_response_ref(&self) -> Response {
        poem::error::ResponseError::as_response(self)
    }
}
