//! A request refused before its body was read (401, 404, 413, 429, ...) leaves the body
//! on the connection, and hyper then closes it after the answer. Saying
//! `Connection: close` lets a keep-alive client know instead of finding out on its next
//! request. 400 and 422 come after the JSON body was read, so they keep the connection.

use poem::http::{header, HeaderValue, StatusCode};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

pub struct CloseOnUnreadBody;

impl<E: Endpoint> Middleware<E> for CloseOnUnreadBody {
    type Output = CloseOnUnreadBodyEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        CloseOnUnreadBodyEndpoint { inner: ep }
    }
}

pub struct CloseOnUnreadBodyEndpoint<E> {
    inner: E,
}

fn announces_body(req: &Request) -> bool {
    let length =
        req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    length.is_some_and(|n| n > 0) || req.headers().contains_key(header::TRANSFER_ENCODING)
}

fn body_was_read(status: StatusCode) -> bool {
    status.is_success()
        || status.is_redirection()
        || status == StatusCode::BAD_REQUEST
        || status == StatusCode::UNPROCESSABLE_ENTITY
}

impl<E: Endpoint> Endpoint for CloseOnUnreadBodyEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let had_body = announces_body(&req);
        let mut resp = self.inner.call(req).await?.into_response();
        if had_body && !body_was_read(resp.status()) {
            resp.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(resp)
    }
}
