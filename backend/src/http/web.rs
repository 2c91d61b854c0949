//! The dashboard: the built SPA in `static/`, embedded into the binary.
//!
//! API routes answer first; a GET that no route knows and that is not under `/api`
//! gets the matching file, or `index.html` so client-side routes work on reload.

use poem::http::{header, Method, StatusCode};
use poem::{Endpoint, IntoResponse, Request, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../static/"]
struct Assets;

fn is_api_path(path: &str) -> bool {
    path == "/api" || path.starts_with("/api/") || matches!(path, "/healthz" | "/readyz" | "/metrics")
}

fn asset(path: &str) -> Option<Response> {
    let file = Assets::get(path)?;
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    // Vite puts content hashes in asset names: those can be cached forever.
    let cache = if path.starts_with("assets/") { "public, max-age=31536000, immutable" } else { "no-cache" };
    Some(
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, mime.as_ref())
            .header(header::CACHE_CONTROL, cache)
            .body(file.data.into_owned()),
    )
}

fn spa_response(path: &str) -> Option<Response> {
    let trimmed = path.trim_start_matches('/');
    if !trimmed.is_empty() {
        if let Some(resp) = asset(trimmed) {
            return Some(resp);
        }
        // A missing file with an extension is a real 404, not a client route.
        if trimmed.rsplit('/').next().is_some_and(|last| last.contains('.')) {
            return None;
        }
    }
    asset("index.html")
}

pub async fn with_spa_fallback<E: Endpoint>(ep: &E, req: Request) -> poem::Result<Response> {
    let path = req.uri().path().to_owned();
    let spa_candidate = req.method() == Method::GET && !is_api_path(&path);
    match ep.call(req).await {
        Ok(resp) => Ok(resp.into_response()),
        Err(err) if spa_candidate && err.status() == StatusCode::NOT_FOUND => spa_response(&path).ok_or(err),
        Err(err) => Err(err),
    }
}
