//! Assembles every route into one endpoint.

use std::sync::Arc;

use poem::middleware::{NormalizePath, TrailingSlash};
use poem::{get, Endpoint, EndpointExt, IntoEndpoint, Route};
use poem_openapi::OpenApiService;

use super::routes::{AdminApi, AuthApi, EventsApi, MessagesApi, NodesApi, ServerApi, SessionsApi, SimApi, WebhooksApi};
use super::AppState;

pub fn build(state: Arc<AppState>) -> impl Endpoint {
    let apis = (
        AuthApi { state: state.clone() },
        SessionsApi { state: state.clone() },
        MessagesApi { state: state.clone() },
        EventsApi { state: state.clone() },
        WebhooksApi { state: state.clone() },
        NodesApi { state: state.clone() },
    );
    let sim = SimApi { state: state.clone(), sim: state.sim.clone() };
    let admin = (AdminApi { state: state.clone() }, ServerApi { state: state.clone() });
    let service = OpenApiService::new((apis, sim, admin), "wahub", env!("CARGO_PKG_VERSION")).description(
        "Link WhatsApp accounts, keep them alive, and get every QR, status change and message pushed live.",
    );
    let doc = super::openapi::complete(&service.spec());
    let (spec, asyncapi, docs) = super::openapi::endpoints(&doc, &service.swagger_ui_html());
    let allow = std::sync::Arc::new(super::allow::AllowTable::from_openapi(&doc));
    let max_body = state.settings.server.max_body_bytes;
    Route::new()
        .at("/api/openapi.json", spec)
        .at("/api/asyncapi.json", asyncapi)
        .nest("/api/docs", docs)
        .at("/api/v1/ws", get(super::ws::ws_handler))
        .at("/healthz", get(super::ops::healthz))
        .at("/readyz", get(super::ops::readyz))
        .at("/metrics", get(super::ops::metrics))
        .nest("/", service)
        .with(NormalizePath::new(TrailingSlash::Trim))
        .with(super::request_log::RequestLog { tracer: state.events.tracer().clone() })
        .data(state)
        .around(move |ep, req| async move {
            crate::metrics::HTTP_REQUESTS.inc();
            let req = super::body_limit::limit(req, max_body).await?;
            super::web::with_spa_fallback(ep.as_ref(), req).await
        })
        .catch_all_error(|err| async move { crate::error::from_poem_error(err) })
        .with(super::allow::AllowHeader(allow))
        .with(super::security_headers::SecurityHeaders)
        .with(super::unread_body::CloseOnUnreadBody)
        .with(super::request_id::RequestId)
        .into_endpoint()
}
