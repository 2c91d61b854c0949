//! One log line per request with the method, the *path* (never the query: WebSocket
//! clients put `token` and `api_key` there), the status and the time taken.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response, Result};

use crate::otel::{Kind, SpanContext, Tracer, Value};

/// Also times each request for /metrics and, when tracing is on, records its span (a
/// child of the caller's `traceparent` when one is sent).
pub struct RequestLog {
    pub tracer: Tracer,
}

impl<E: Endpoint> Middleware<E> for RequestLog {
    type Output = RequestLogEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        RequestLogEndpoint { inner: ep, tracer: self.tracer.clone() }
    }
}

pub struct RequestLogEndpoint<E> {
    inner: E,
    tracer: Tracer,
}

impl<E: Endpoint> Endpoint for RequestLogEndpoint<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let method = req.method().clone();
        let path = req.original_uri().path().to_owned();
        let started = Instant::now();
        let parent =
            req.headers().get("traceparent").and_then(|v| v.to_str().ok()).and_then(SpanContext::from_traceparent);
        let mut span = self.tracer.span(method.as_str(), Kind::Server, parent);
        let answer = self.inner.call(req);
        let result = match span.context() {
            Some(ctx) => crate::otel::scope(ctx, answer).await,
            None => answer.await,
        }
        .map(IntoResponse::into_response);
        let status = match &result {
            Ok(resp) => resp.status(),
            Err(err) => err.status(),
        };
        let took = started.elapsed();
        crate::metrics::observe_http(method.as_str(), status.as_u16(), took);
        let elapsed_ms = took.as_secs_f64() * 1000.0;
        let request_id = crate::error::current_request_id().unwrap_or_default();
        tracing::info!(%method, %path, status = status.as_u16(), elapsed_ms, %request_id, "request");
        if self.tracer.enabled() {
            span.attr("http.request.method", Value::Str(method.to_string()));
            span.attr("url.path", Value::Str(path));
            span.attr("http.response.status_code", Value::Int(status.as_u16().into()));
            span.attr("wahub.request_id", Value::Str(request_id));
            if status.is_server_error() {
                span.error(status.to_string());
            }
        }
        span.end();
        result
    }
}
