//! `X-Request-Id`: taken from the request when it is short and made of safe characters,
//! generated otherwise; echoed on every response, put in problem bodies and on every log
//! line written while the request is answered.

use poem::http::header::{HeaderName, HeaderValue};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};
use tracing::Instrument as _;

pub const HEADER: &str = "x-request-id";
const MAX_LEN: usize = 64;

/// A client's id is kept only if it cannot forge log lines or headers.
pub fn accept(raw: &str) -> Option<&str> {
    let ok = !raw.is_empty()
        && raw.len() <= MAX_LEN
        && raw.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    ok.then_some(raw)
}

pub struct RequestId;

impl<E: Endpoint> Middleware<E> for RequestId {
    type Output = RequestIdEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        RequestIdEndpoint { inner: ep }
    }
}

pub struct RequestIdEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for RequestIdEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let id = req
            .headers()
            .get(HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(accept)
            .map(str::to_owned)
            .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
        let span = tracing::info_span!("request", request_id = %id);
        let answer = crate::error::REQUEST_ID.scope(id.clone(), self.inner.call(req).instrument(span)).await;
        let mut resp = match answer {
            Ok(resp) => resp.into_response(),
            Err(err) => crate::error::REQUEST_ID.sync_scope(id.clone(), || err.into_response()),
        };
        if let Ok(value) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert(HeaderName::from_static(HEADER), value);
        }
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::accept;

    #[test]
    fn only_short_safe_ids_are_kept() {
        assert_eq!(accept("abc-123_x.y:z"), Some("abc-123_x.y:z"));
        assert_eq!(accept(&"a".repeat(64)).map(str::len), Some(64));
        for bad in ["", "has space", "new\nline", "quote\"", "é", &"a".repeat(65)] {
            assert_eq!(accept(bad), None, "{bad:?}");
        }
    }
}
