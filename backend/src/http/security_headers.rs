//! Headers on every answer that keep browsers from sniffing types, framing the
//! dashboard, leaking URLs in `Referer`, or running script that is not ours.

use poem::http::header::{HeaderName, HeaderValue};
use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

/// The dashboard is built without inline script or style (checked by a test against the
/// built `static/index.html`); QR images arrive as `blob:` URLs.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; \
                   connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
                   form-action 'self'; frame-ancestors 'none'";

/// Swagger UI (`/api/docs`) ships its script inline: allowed there, and only there.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; \
                        img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
                        frame-ancestors 'none'";

pub struct SecurityHeaders;

impl<E: Endpoint> Middleware<E> for SecurityHeaders {
    type Output = SecurityHeadersEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        SecurityHeadersEndpoint { inner: ep }
    }
}

pub struct SecurityHeadersEndpoint<E> {
    inner: E,
}

fn decorate(mut resp: Response, docs: bool) -> Response {
    let headers = resp.headers_mut();
    let csp = if docs { DOCS_CSP } else { CSP };
    for (name, value) in [
        ("content-security-policy", csp),
        ("x-content-type-options", "nosniff"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ] {
        headers.insert(HeaderName::from_static(name), HeaderValue::from_static(value));
    }
    resp
}

impl<E: Endpoint> Endpoint for SecurityHeadersEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let docs = req.uri().path().starts_with("/api/docs");
        match self.inner.call(req).await {
            Ok(resp) => Ok(decorate(resp.into_response(), docs)),
            Err(err) => Ok(decorate(crate::error::from_poem_error(err), docs)),
        }
    }
}
